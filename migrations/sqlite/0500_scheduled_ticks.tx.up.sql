-- Scheduled Tick events (core/outbox/schedule.go). A Tick is an outbox event
-- addressed to one subscriber: events.subscriber names it, and every other
-- subscriber's reads skip the row (subscriber IS NULL OR subscriber = ?).
-- NULL (every engine event) means "for everyone".
ALTER TABLE events ADD COLUMN subscriber TEXT;
--bun:split
-- One row per subscriber and schedule period, inserted (ON CONFLICT DO
-- NOTHING) in the transaction that appends the period's Tick: of the
-- instances sharing a database, only the one whose insert wins appends it.
-- period_start_ms is Unix milliseconds, a multiple of the period. Old rows
-- are pruned by the same transaction.
CREATE TABLE outbox_ticks (
    subscriber_id   TEXT NOT NULL,
    period_start_ms INTEGER NOT NULL,
    PRIMARY KEY (subscriber_id, period_start_ms)
);
