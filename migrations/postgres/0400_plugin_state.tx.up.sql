-- Per-plugin key-value state (plugins/state.go). Written only in the
-- transaction that acknowledges the event whose handler made the writes, so a
-- redelivered event never applies its change twice. Keys are compared as
-- bytes (list by prefix is a range scan). size = len(key) + len(value),
-- summed against the operator's quota (TPG_PLUGIN_STATE_QUOTA_KB).
CREATE TABLE plugin_state (
    plugin_id   TEXT NOT NULL,
    key         BYTEA NOT NULL,
    value       BYTEA NOT NULL,
    size        BIGINT NOT NULL,
    updated_ms  BIGINT NOT NULL,
    PRIMARY KEY (plugin_id, key)
);
