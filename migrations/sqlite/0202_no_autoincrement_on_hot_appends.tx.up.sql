-- events and settlement_journal drop AUTOINCREMENT: it kept their counters in
-- sqlite_sequence, one more page written by every payment and confirmation.
-- A plain INTEGER PRIMARY KEY takes max(id) + 1, which never goes back as
-- long as no row is deleted: the delete guards below make sure of that (the
-- journal had one already). A seq used by a transaction that rolled back may
-- be used again, which no reader can tell: the rolled-back row was never
-- visible. Same rows, same ids.
CREATE TABLE events_new (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
--bun:split
INSERT INTO events_new (seq, id, type, payload, created_at) SELECT seq, id, type, payload, created_at FROM events ORDER BY seq;
--bun:split
DROP TABLE events;
--bun:split
ALTER TABLE events_new RENAME TO events;
--bun:split
CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'Delete not allowed on events'); END;
--bun:split
CREATE TABLE settlement_journal_new (
    id              INTEGER PRIMARY KEY,
    created_at      TIMESTAMP NOT NULL,
    order_id        TEXT NOT NULL REFERENCES orders(order_id),
    payment_address TEXT NOT NULL,
    account         TEXT NOT NULL,
    settlement_type TEXT NOT NULL CHECK (settlement_type IN ('single','multiple')),
    amount          INTEGER NOT NULL
);
--bun:split
INSERT INTO settlement_journal_new (id, created_at, order_id, payment_address, account, settlement_type, amount)
SELECT id, created_at, order_id, payment_address, account, settlement_type, amount FROM settlement_journal ORDER BY id;
--bun:split
DROP TABLE settlement_journal;
--bun:split
ALTER TABLE settlement_journal_new RENAME TO settlement_journal;
--bun:split
CREATE INDEX settlement_order_idx ON settlement_journal(order_id);
--bun:split
CREATE INDEX settlement_account_idx ON settlement_journal(account);
--bun:split
CREATE TRIGGER settlement_journal_no_delete BEFORE DELETE ON settlement_journal BEGIN SELECT RAISE(ABORT, 'Delete not allowed on settlements'); END;
--bun:split
DELETE FROM sqlite_sequence WHERE name IN ('events', 'settlement_journal');
