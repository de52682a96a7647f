-- Web console sessions (api/console). Kept in the database, not in memory, so
-- a logout or a revocation holds on every instance. The cookie carries a
-- random secret; only its SHA-256 is stored. Times are Unix milliseconds.
CREATE TABLE console_sessions (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    account     TEXT NOT NULL,
    address     TEXT NOT NULL,
    csrf_token  TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL
);
--bun:split
CREATE INDEX console_sessions_account_idx ON console_sessions(account);
