-- Event delivery (core/outbox): one cursor row per subscriber and one row per
-- parked (failed) delivery. Times used for leases and backoff are Unix
-- milliseconds so both dialects compare them the same way.
CREATE TABLE outbox_subscribers (
    id              TEXT PRIMARY KEY,
    event_types     TEXT NOT NULL DEFAULT '',
    position        INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    disabled_reason TEXT NOT NULL DEFAULT '',
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until_ms  INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
--bun:split
CREATE TABLE outbox_failures (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id TEXT NOT NULL,
    event_seq     INTEGER NOT NULL,
    event_id      TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    last_error    TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'failed',
    failed_at     TIMESTAMP NOT NULL,
    UNIQUE (subscriber_id, event_seq)
);
--bun:split
CREATE INDEX outbox_failures_state_idx ON outbox_failures(subscriber_id, state);
