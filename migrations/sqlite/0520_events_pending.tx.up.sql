-- PostgreSQL only (its writers stage events in events_pending for the
-- sequencer; SQLite's single writer appends to events directly). Kept so both
-- dialects carry the same migration names.
SELECT 1;
