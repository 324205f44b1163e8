-- The operator console: migrations/sqlite/0010_console.sql in PostgreSQL's dialect.

-- Server-side sessions, keyed by the hex SHA-256 of the cookie's session id (never the id).
CREATE TABLE console_sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    who          TEXT NOT NULL,
    via          TEXT NOT NULL CHECK (via IN ('token', 'proxy', 'link')),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- One-time login links: the hex SHA-256 of the link's token, deleted when spent.
CREATE TABLE console_login_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    who        TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Who did what to which signups (a JSON array of ids), and when.
CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY NOT NULL,
    at         BIGINT NOT NULL,
    who        TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('login', 'logout', 'reveal', 'retry', 'bulk_retry', 'erase')),
    signup_ids TEXT NOT NULL,
    detail     TEXT
);

CREATE INDEX audit_log_at ON audit_log (at, id);

CREATE INDEX signups_email_lower ON signups (lower(email));
CREATE INDEX signups_by_created ON signups (created_at, id);

-- Each failed delivery run of a signup (the console's history of its attempts): its run number,
-- when it ended, `retry` or `failed`, lastError and the masked detail. Written with the run's
-- outcome; deleted with the signup.
CREATE TABLE signup_attempts (
    signup_id TEXT NOT NULL REFERENCES signups (id) ON DELETE CASCADE,
    run       BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    outcome   TEXT NOT NULL CHECK (outcome IN ('retry', 'failed')),
    error     TEXT NOT NULL,
    detail    TEXT NOT NULL,
    PRIMARY KEY (signup_id, run)
);
