-- The event outbox: every event is written in the same transaction as the change
-- that caused it. seq gives the global delivery order; writers take an advisory
-- transaction lock before inserting so seq values commit in order.
CREATE TABLE events (
    seq        BIGSERIAL PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX events_type_idx ON events(type);
