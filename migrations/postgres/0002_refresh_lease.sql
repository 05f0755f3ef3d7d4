-- The refresh lease (PostgreSQL; the SQLite twin is migrations/sqlite/0002_refresh_lease.sql).
-- A refresh claims its connection by writing its holder id and an expiry with a
-- compare-and-set UPDATE, talks to the provider without holding any database lock, renews
-- the expiry while it waits, and clears both in the UPDATE that commits the new tokens. A
-- holder that dies stops renewing; its lease expires and another instance may claim it.
ALTER TABLE connections ADD COLUMN lease_holder TEXT;
ALTER TABLE connections ADD COLUMN lease_until  BIGINT; -- unix seconds
