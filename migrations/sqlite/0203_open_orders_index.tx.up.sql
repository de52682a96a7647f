-- The (status, customer_id) index held every order, so paying one moved its
-- entry from the New part of the index to the Paid part: two index pages
-- written per payment, in an index that only grows. Open orders now have a
-- partial index of their own (payable orders, expiry, creditors: it stays as
-- small as the orders awaiting payment), and orders by customer a plain one
-- whose entries never move. Queries on open orders must spell the partial
-- index's WHERE word for word (engine.openStatus): that is how SQLite knows
-- it applies.
DROP INDEX IF EXISTS orders_status_customer_idx;
--bun:split
CREATE INDEX orders_open_idx ON orders(status, customer_id) WHERE status IN ('Unclaimed', 'New');
--bun:split
CREATE INDEX orders_customer_idx ON orders(customer_id);
