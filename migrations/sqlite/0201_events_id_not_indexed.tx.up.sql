-- Nothing looks an event up by id (deliverers and admins scan by seq), and the
-- UNIQUE index on the random id cost a write to a random page on every event
-- append: a third of the pages some engine operations commit beside their own
-- rows. Ids stay 122 random bits (store.NewEventID). SQLite cannot drop a
-- column constraint, so the table is rebuilt with the same rows and seqs and
-- the same AUTOINCREMENT counter.
CREATE TABLE events_new (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
--bun:split
INSERT INTO events_new (seq, id, type, payload, created_at) SELECT seq, id, type, payload, created_at FROM events ORDER BY seq;
--bun:split
DELETE FROM sqlite_sequence WHERE name = 'events_new';
--bun:split
INSERT INTO sqlite_sequence (name, seq) SELECT 'events_new', seq FROM sqlite_sequence WHERE name = 'events';
--bun:split
DROP TABLE events;
--bun:split
ALTER TABLE events_new RENAME TO events;
