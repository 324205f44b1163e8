-- The schema of migrations/sqlite/0001…0007 in PostgreSQL's dialect, as one file: the same
-- tables, columns, constraints and indexes. Times are Unix milliseconds (BIGINT) as in SQLite.

-- Signups: the durable queue. One row per (source, idempotency key).
CREATE TABLE signups (
    id                TEXT PRIMARY KEY NOT NULL,
    source_id         TEXT NOT NULL,
    idempotency_key   TEXT NOT NULL,
    fingerprint       TEXT NOT NULL,
    tenant            TEXT NOT NULL,
    email             TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'created', 'existing', 'failed')),
    resolution        TEXT CHECK (resolution IN ('created', 'existing')),
    customer          TEXT,
    attempts          BIGINT NOT NULL DEFAULT 0,
    attempt_limit     BIGINT NOT NULL,
    last_error        TEXT,
    next_attempt_at   BIGINT NOT NULL,
    lease_owner       TEXT,
    lease_until       BIGINT,
    lease_version     BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    completed_at      BIGINT,
    last_error_detail TEXT,
    UNIQUE (source_id, idempotency_key)
);

CREATE INDEX signups_due ON signups (tenant, next_attempt_at) WHERE status = 'pending';
CREATE INDEX signups_completed ON signups (completed_at) WHERE status <> 'pending';
CREATE INDEX signups_by_update ON signups (updated_at);

-- Each step of a signup (create, service_desk:<id>, organization:<id>), recorded in its own commit.
CREATE TABLE signup_steps (
    signup_id  TEXT NOT NULL REFERENCES signups (id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    name       TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'done', 'skipped', 'failed')),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (signup_id, position)
);

-- Connect installations.
CREATE TABLE installations (
    client_key    TEXT PRIMARY KEY NOT NULL,
    shared_secret TEXT NOT NULL,
    base_url      TEXT NOT NULL,
    display_url   TEXT,
    product_type  TEXT,
    description   TEXT,
    state         TEXT NOT NULL CHECK (state IN ('installed', 'disabled', 'uninstalled')),
    installed_at  BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Secrets the bridge generates for itself (the sandbox source's HMAC secret): one value for
-- every instance on the database.
CREATE TABLE local_secrets (
    name       TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A token's `jti` bound to the idempotency key of the first signup it was used for.
CREATE TABLE token_jtis (
    source_id       TEXT NOT NULL,
    jti             TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (source_id, jti)
);

CREATE INDEX token_jtis_expiry ON token_jtis (expires_at);

-- Tokens that may be used once until they expire (hex SHA-256 keys, never the token).
CREATE TABLE used_tokens (
    kind       TEXT NOT NULL,
    token_key  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (kind, token_key)
);

CREATE INDEX used_tokens_expiry ON used_tokens (expires_at);

-- Forge Remote installations, keyed by the FIT's app.installationId.
CREATE TABLE forge_installations (
    installation_id  TEXT PRIMARY KEY NOT NULL,
    app_id           TEXT NOT NULL,
    environment_type TEXT,
    environment_id   TEXT,
    api_base_url     TEXT NOT NULL,
    cloud_id         TEXT,
    site_url         TEXT,
    system_token     TEXT NOT NULL DEFAULT '',
    token_expires_at BIGINT,
    state            TEXT NOT NULL CHECK (state IN ('installed', 'uninstalled')),
    installed_at     BIGINT NOT NULL,
    last_seen_at     BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE INDEX forge_installations_cloud ON forge_installations (cloud_id);

-- A tenant's 429 pause (the latest end of a pause in Unix ms; a past value means no pause).
CREATE TABLE tenant_holds (
    tenant   TEXT PRIMARY KEY NOT NULL,
    until_ms BIGINT NOT NULL
);
