-- Nothing reads the outbox by type alone (deliverers scan by seq), and the
-- index cost a page write on every event append.
DROP INDEX IF EXISTS events_type_idx;
