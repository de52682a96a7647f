-- SQLite only (its events and settlement_journal leave AUTOINCREMENT behind):
-- PostgreSQL's sequences cost no extra page per insert. Kept so both dialects
-- carry the same migration names.
SELECT 1;
