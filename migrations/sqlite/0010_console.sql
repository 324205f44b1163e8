-- The operator console (docs/CONSOLE.md).

-- Server-side sessions. `id_hash` is the hex SHA-256 of the session id the cookie carries: the
-- id itself is never stored. `who` is the admin token's label or the proxy's user; times are
-- Unix ms: the session ends at `expires_at` (session_max after sign-in) or when unused for
-- session_idle after `last_seen_at`.
CREATE TABLE console_sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    who          TEXT NOT NULL,
    via          TEXT NOT NULL CHECK (via IN ('token', 'proxy', 'link')),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- One-time login links (the sandbox prints one): the hex SHA-256 of the link's token, spent by
-- the first sign-in that presents it (the row is deleted) or at `expires_at`.
CREATE TABLE console_login_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    who        TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Who did what to which signups, and when: console sign-ins and actions and `signups erase`.
-- `signup_ids` is a JSON array of ids ('[]' for none); `detail` a short note (the filters of a
-- bulk retry). Purged `console.audit_retention` after `at`.
CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY NOT NULL,
    at         INTEGER NOT NULL,
    who        TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('login', 'logout', 'reveal', 'retry', 'bulk_retry', 'erase')),
    signup_ids TEXT NOT NULL,
    detail     TEXT
);

CREATE INDEX audit_log_at ON audit_log (at, id);

-- The console's lists: exact email search by lowercased email, newest first by creation time.
CREATE INDEX signups_email_lower ON signups (lower(email));
CREATE INDEX signups_by_created ON signups (created_at, id);

-- Each failed delivery run of a signup (the console's history of its attempts): its run number,
-- when it ended, `retry` or `failed`, lastError and the masked detail. Written with the run's
-- outcome; deleted with the signup.
CREATE TABLE signup_attempts (
    signup_id TEXT NOT NULL REFERENCES signups (id) ON DELETE CASCADE,
    run       INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    outcome   TEXT NOT NULL CHECK (outcome IN ('retry', 'failed')),
    error     TEXT NOT NULL,
    detail    TEXT NOT NULL,
    PRIMARY KEY (signup_id, run)
) WITHOUT ROWID;
