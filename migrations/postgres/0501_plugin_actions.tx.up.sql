-- The audit trail of plugin actions (plugins/actions.go): every call a plugin
-- makes back into the engine, granted or refused, with the plugin as actor.
-- outcome: ok, refused (not granted by the manifest, or a bad request) or
-- failed (the engine refused it or could not complete it). request is the
-- plugin's request document, cut at 2000 bytes.
CREATE TABLE plugin_actions (
    id         BIGSERIAL PRIMARY KEY,
    plugin_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    request    TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX plugin_actions_plugin_idx ON plugin_actions(plugin_id, id);
