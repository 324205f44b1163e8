-- Signups: the durable queue. One row per (source, idempotency key).
CREATE TABLE signups (
    id              TEXT PRIMARY KEY NOT NULL,
    source_id       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    tenant          TEXT NOT NULL,
    email           TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'created', 'existing', 'failed')),
    resolution      TEXT CHECK (resolution IN ('created', 'existing')),
    customer        TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    attempt_limit   INTEGER NOT NULL,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    lease_version   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    completed_at    INTEGER,
    UNIQUE (source_id, idempotency_key)
);

CREATE INDEX signups_due ON signups (tenant, next_attempt_at) WHERE status = 'pending';
CREATE INDEX signups_completed ON signups (completed_at) WHERE status <> 'pending';
CREATE INDEX signups_by_update ON signups (updated_at);

-- Each step of a signup (create, service_desk:<id>, organization:<id>), recorded in its own commit.
CREATE TABLE signup_steps (
    signup_id  TEXT NOT NULL REFERENCES signups (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'done', 'skipped', 'failed')),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (signup_id, position)
) WITHOUT ROWID;

-- Connect installations (SPEC §5).
CREATE TABLE installations (
    client_key    TEXT PRIMARY KEY NOT NULL,
    shared_secret TEXT NOT NULL,
    base_url      TEXT NOT NULL,
    display_url   TEXT,
    product_type  TEXT,
    description   TEXT,
    state         TEXT NOT NULL CHECK (state IN ('installed', 'disabled', 'uninstalled')),
    installed_at  INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Secrets the bridge generates for itself (the sandbox source's HMAC secret).
CREATE TABLE local_secrets (
    name       TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
