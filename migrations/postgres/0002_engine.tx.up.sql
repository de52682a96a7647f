-- Engine tables (core/engine). Times are written by the engine (UTC, bun's
-- text form), never by column defaults, so both dialects agree. Addresses are
-- stored as received (base58) beside their account key (network + spend key,
-- decision D25); balances, links and matching use the account key.
CREATE TABLE orders (
    id                 BIGSERIAL PRIMARY KEY,
    order_id           TEXT NOT NULL UNIQUE,
    alt_id             TEXT,
    customer_id        TEXT NOT NULL,
    memo               TEXT,
    total_price        BIGINT NOT NULL,
    original_price     TEXT,
    currency           TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('Unclaimed','New','Paid','Cancelled','Expired')),
    amount_outstanding TEXT,
    cancel_reason      TEXT,
    status_changed_at  TIMESTAMPTZ NOT NULL
);
--bun:split
-- Partial: orders without an alt_id (most non-Shopify orders) skip this index.
CREATE UNIQUE INDEX orders_alt_id_idx ON orders(alt_id) WHERE alt_id IS NOT NULL;
--bun:split
-- One index serves the payable orders of customers, settle, creditors,
-- expiry (which walks the open orders of one status) and, with every status
-- listed, the orders of a customer: each index is one more page written per
-- order change.
CREATE INDEX orders_status_customer_idx ON orders(status, customer_id);
--bun:split
CREATE FUNCTION orders_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'Delete not allowed on orders'; END $$;
--bun:split
CREATE TRIGGER orders_no_delete BEFORE DELETE ON orders FOR EACH ROW EXECUTE FUNCTION orders_no_delete();
--bun:split
-- Audit history of orders and payments: one row per insert or change, with the
-- row as it stood after it (JSON), written in the same transaction. Written on
-- every change and read rarely, so it carries no index of its own.
CREATE TABLE audit_log (
    id         BIGSERIAL PRIMARY KEY,
    entity     TEXT NOT NULL CHECK (entity IN ('order','payment')),
    entity_key TEXT NOT NULL,
    operation  TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    snapshot   TEXT NOT NULL
);
--bun:split
CREATE TABLE payments (
    txid           TEXT PRIMARY KEY NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    sender         TEXT NOT NULL,
    sender_account TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    memo           TEXT,
    payment_type   TEXT NOT NULL CHECK (payment_type IN ('on_chain','manual')),
    status         TEXT NOT NULL CHECK (status IN ('received','confirmed','cancelled')),
    order_id       TEXT
);
--bun:split
CREATE INDEX payments_account_idx ON payments(sender_account, created_at);
--bun:split
CREATE INDEX payments_order_id_idx ON payments(order_id) WHERE order_id IS NOT NULL;
--bun:split
CREATE FUNCTION payments_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'Delete not allowed on payments'; END $$;
--bun:split
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments FOR EACH ROW EXECUTE FUNCTION payments_no_delete();
--bun:split
-- Account ↔ customer links (many-to-many, never deleted).
CREATE TABLE address_links (
    id          BIGSERIAL PRIMARY KEY,
    account     TEXT NOT NULL,
    address     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (account, customer_id)
);
--bun:split
CREATE INDEX address_links_customer_idx ON address_links(customer_id, account);
--bun:split
-- Running totals per account, kept in the same transaction as the payments and
-- settlements they sum (the invariant checker recomputes them).
CREATE TABLE account_balances (
    account         TEXT PRIMARY KEY NOT NULL,
    address         TEXT NOT NULL,
    total_confirmed BIGINT NOT NULL DEFAULT 0,
    total_paid      BIGINT NOT NULL DEFAULT 0,
    pending         BIGINT NOT NULL DEFAULT 0,
    last_update     TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE TABLE settlement_journal (
    id              BIGSERIAL PRIMARY KEY,
    created_at      TIMESTAMPTZ NOT NULL,
    order_id        TEXT NOT NULL REFERENCES orders(order_id),
    payment_address TEXT NOT NULL,
    account         TEXT NOT NULL,
    settlement_type TEXT NOT NULL CHECK (settlement_type IN ('single','multiple')),
    amount          BIGINT NOT NULL
);
--bun:split
CREATE INDEX settlement_order_idx ON settlement_journal(order_id);
--bun:split
CREATE INDEX settlement_account_idx ON settlement_journal(account);
--bun:split
CREATE FUNCTION settlement_journal_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'Delete not allowed on settlements'; END $$;
--bun:split
CREATE TRIGGER settlement_journal_no_delete BEFORE DELETE ON settlement_journal FOR EACH ROW EXECUTE FUNCTION settlement_journal_no_delete();
--bun:split
CREATE TABLE roles (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
--bun:split
INSERT INTO roles (id, name) VALUES (1, 'user'), (2, 'read_all'), (3, 'write'), (4, 'payment_wallet'), (5, 'super_admin');
--bun:split
CREATE TABLE role_assignments (
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (account, role_id)
);
--bun:split
-- Login nonces, per account (D24: strictly increasing, consumed by valid tokens only).
CREATE TABLE auth_log (
    account    TEXT PRIMARY KEY NOT NULL,
    address    TEXT NOT NULL,
    last_nonce BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
-- Authorised hot wallets, by exact address (what customers pay to).
CREATE TABLE wallet_auth (
    address    TEXT PRIMARY KEY NOT NULL,
    ip_address TEXT NOT NULL,
    last_nonce BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE TABLE exchange_rates (
    id            BIGSERIAL PRIMARY KEY,
    base_currency TEXT NOT NULL,
    rate          BIGINT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX exchange_rates_currency_idx ON exchange_rates(base_currency, id);
--bun:split
CREATE FUNCTION exchange_rates_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'Delete not allowed on exchange_rates'; END $$;
--bun:split
CREATE TRIGGER exchange_rates_no_delete BEFORE DELETE ON exchange_rates FOR EACH ROW EXECUTE FUNCTION exchange_rates_no_delete();
--bun:split
CREATE TABLE shopify_transactions (
    id         BIGINT PRIMARY KEY NOT NULL,
    order_id   BIGINT NOT NULL,
    amount     TEXT NOT NULL,
    currency   TEXT NOT NULL,
    test       BOOLEAN NOT NULL,
    captured   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX shopify_transactions_order_idx ON shopify_transactions(order_id, captured);
--bun:split
-- Shopify webhook deliveries already processed (D20), by X-Shopify-Event-Id.
CREATE TABLE shopify_webhooks (
    event_id TEXT PRIMARY KEY NOT NULL,
    seen_at  TIMESTAMPTZ NOT NULL
);
