-- Forge Remote installations, keyed by the FIT's app.installationId. `system_token` is the app
-- system token from the last Forge call that carried one (sealed under database.encryption_key
-- when set; '' when there is none or it was dropped), `token_expires_at` its exp (Unix ms).
-- `installed_at` starts the permission grace; `last_seen_at` is the last verified Forge call.
CREATE TABLE forge_installations (
    installation_id  TEXT PRIMARY KEY NOT NULL,
    app_id           TEXT NOT NULL,
    environment_type TEXT,
    environment_id   TEXT,
    api_base_url     TEXT NOT NULL,
    cloud_id         TEXT,
    site_url         TEXT,
    system_token     TEXT NOT NULL DEFAULT '',
    token_expires_at INTEGER,
    state            TEXT NOT NULL CHECK (state IN ('installed', 'uninstalled')),
    installed_at     INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE INDEX forge_installations_cloud ON forge_installations (cloud_id);
