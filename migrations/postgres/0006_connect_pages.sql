-- Connect pages (PostgreSQL; the twin is migrations/sqlite/0006_connect_pages.sql).
-- A session started with POST /connect/sessions gets a page its end user opens at connect_url.
-- The page token in that URL is kept only as its SHA-256, as a session's state is. The row
-- holds what the platform fixed for the session (data center, environment, scopes, connection
-- parameters); what the user chooses on the page arrives with the form. A submitted page is
-- deleted (single use), and with it the session's own pending authorization, so the
-- authorization_url and the page never both complete.
CREATE TABLE connect_pages (
    page_hash     TEXT    PRIMARY KEY, -- SHA-256 of the page token in connect_url, hex
    state_hash    TEXT,                -- the session's pending authorization (OAuth sessions)
    provider      TEXT    NOT NULL,
    connection_id TEXT    NOT NULL,
    settings      TEXT    NOT NULL,    -- JSON: data_center, environment, scopes, params fixed by the platform
    return_to     TEXT,                -- where the browser lands at the end (an allowed origin)
    expires_at    BIGINT  NOT NULL     -- the session's expiry, unix seconds
);

CREATE INDEX connect_pages_expiry ON connect_pages (expires_at);

-- Where the callback sends the browser once the connection is stored (or refused).
ALTER TABLE pending_authorizations ADD COLUMN return_to TEXT;
