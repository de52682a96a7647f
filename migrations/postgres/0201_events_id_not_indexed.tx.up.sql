-- Nothing looks an event up by id (deliverers and admins scan by seq), and the
-- UNIQUE index on the random id cost a write to a random page on every event
-- append. Ids stay 122 random bits (store.NewEventID).
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_id_key;
