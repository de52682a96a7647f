-- PostgreSQL only (the writers lock; SQLite's writes queue in the process).
-- Kept so both dialects carry the same migration names.
SELECT 1;
