-- Connections of every auth mode, each with its API environment (PostgreSQL; the SQLite twin
-- is migrations/sqlite/0004_connection_modes.sql: keep the two in step).
-- `auth_mode` says what the sealed column holds: tokens (oauth2_code, client_credentials,
-- token_request), the connection's own credentials (api_key, basic, token_request), its own
-- client id and secret (client_credentials), all sealed together, never in clear.
-- `environment` is the API environment the connection was made for (production, sandbox,
-- ...); NULL on rows written before it was stored, which use the definition's first.
ALTER TABLE connections ADD COLUMN auth_mode TEXT NOT NULL DEFAULT 'oauth2_code';
ALTER TABLE connections ADD COLUMN environment TEXT;
-- A session keeps the environment asked for until its callback stores the connection.
ALTER TABLE pending_authorizations ADD COLUMN environment TEXT;
