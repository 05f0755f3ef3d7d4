-- The webhook outbox (postgres; the twin is migrations/sqlite/0003_webhook_outbox.sql).
-- An event row is written in the same transaction as the connection change that causes it,
-- so a change is never stored without its event, nor an event without its change. Delivery
-- claims due rows with a lease (holder id and expiry, as the refresh lease does), posts them,
-- deletes a row once the receiver answered 2xx, and otherwise moves next_attempt_at on with
-- capped exponential backoff. A holder that dies stops delivering; its lease expires and
-- another instance (or the restarted one) sends the row again: at least once.
CREATE TABLE webhook_outbox (
    id              TEXT    PRIMARY KEY, -- the event's id, also in the body
    body            TEXT    NOT NULL,    -- the JSON posted, exactly as signed
    created_at      BIGINT  NOT NULL,    -- unix seconds
    attempts        BIGINT  NOT NULL,    -- deliveries tried without a 2xx
    next_attempt_at BIGINT  NOT NULL,    -- unix seconds
    lease_holder    TEXT,
    lease_until     BIGINT               -- unix seconds
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at);
