-- Connections and pending authorizations (SQLite). The PostgreSQL twin is
-- migrations/postgres/0001_connections.sql: keep the two in step.
-- Tokens never appear in clear: `sealed` is nonce || AES-256-GCM ciphertext of the token JSON,
-- bound to (provider, connection_id), and `key_id` names the key that sealed it.

CREATE TABLE connections (
    provider      TEXT    NOT NULL,
    connection_id TEXT    NOT NULL,
    data_center   TEXT    NOT NULL,
    issuer        TEXT    NOT NULL,
    scopes        TEXT    NOT NULL, -- JSON array: the scopes requested
    granted_scope TEXT,             -- `scope` as the provider answered it
    token_type    TEXT,
    metadata      TEXT    NOT NULL, -- JSON object: kept token-response fields (api_domain)
    params        TEXT    NOT NULL, -- JSON object: connection parameters
    expires_at    INTEGER,          -- access token expiry, unix seconds
    status        TEXT    NOT NULL, -- active | reauthorization_required
    key_id        TEXT    NOT NULL,
    sealed        BLOB    NOT NULL,
    generation    INTEGER NOT NULL, -- bumped by every token write; refresh waiters compare it
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (provider, connection_id)
);

CREATE TABLE pending_authorizations (
    state_hash    TEXT    PRIMARY KEY, -- SHA-256 of `state`, hex; the state itself is not kept
    provider      TEXT    NOT NULL,
    connection_id TEXT    NOT NULL,
    params        TEXT    NOT NULL,
    key_id        TEXT    NOT NULL,
    sealed        BLOB    NOT NULL,    -- the sealed PendingAuthorization (holds the PKCE verifier)
    expires_at    INTEGER NOT NULL
);

CREATE INDEX pending_authorizations_expiry ON pending_authorizations (expires_at);
