-- Listing connections a page at a time (PostgreSQL; the SQLite twin is
-- migrations/sqlite/0005_connection_listing.sql). GET /connections pages by keyset: a page is
-- the next rows after the last (provider, connection_id) of the one before, in that order.
-- The primary key serves every page with or without a provider filter; this index serves the
-- status filter (with or without a provider), so a page of the few connections that need
-- reauthorization is a range scan, not a walk through every active one.
-- Building it takes a lock that holds writes to `connections` for the build's duration
-- (BENCHMARKS.md gives the time it takes at a million rows).
CREATE INDEX connections_by_status ON connections (status, provider, connection_id);
