-- A table that never holds a row. Every event-writing transaction opens with
-- "INSERT INTO writers_gate SELECT WHERE pg_advisory_xact_lock…(7303, …) IS NULL"
-- (core/store/store.go): the one-time filter takes the writers lock and is
-- false, so nothing is inserted, and as an INSERT the statement returns no
-- rows, so it can head a message whose query result the driver reads. It
-- replaced a DO block, which PostgreSQL compiled anew on every write.
CREATE TABLE writers_gate ();
