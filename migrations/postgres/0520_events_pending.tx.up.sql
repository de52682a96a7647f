-- Event-writing transactions insert here, without any lock; the sequencer
-- (core/store/sequencer.go) moves committed rows into events in pending_id
-- order under an advisory lock only sequencers take, so events.seq values
-- become visible in order while writers on different orders and accounts
-- commit in parallel. Every column of events except seq is carried (a new
-- events column must be added here and to the move statement too).
CREATE TABLE events_pending (
    pending_id BIGSERIAL PRIMARY KEY,
    id         TEXT NOT NULL,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    subscriber TEXT
);
