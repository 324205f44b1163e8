-- A token's `jti` is bound to the idempotency key of the first signup it was used for, until the
-- token expires: the same jti with another key is refused (a captured token cannot carry a new body).
CREATE TABLE token_jtis (
    source_id       TEXT NOT NULL,
    jti             TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    PRIMARY KEY (source_id, jti)
) WITHOUT ROWID;

CREATE INDEX token_jtis_expiry ON token_jtis (expires_at);
