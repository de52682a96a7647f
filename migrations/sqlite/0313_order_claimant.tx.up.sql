-- D26: a plain user sees only the orders its own account claimed, paid or
-- named in a payment, never every order of a customer it is linked to. The
-- claimant's account (network + spend key, D25) is kept on the order; orders
-- claimed before this migration have none, and are seen through their
-- settlements and payments only. A partial index: most orders of a shop are
-- looked up by claimant only while someone reads their own history.
ALTER TABLE orders ADD COLUMN claimed_by TEXT;
--bun:split
CREATE INDEX orders_claimed_by_idx ON orders(claimed_by) WHERE claimed_by IS NOT NULL;
