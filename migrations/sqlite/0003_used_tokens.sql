-- Tokens that may be used once until they expire. `kind` keeps each family of tokens apart
-- ('connect_install' now; Forge Invocation Token jtis may use another kind later).
-- `token_key` is the hex SHA-256 of the token's issuer and jti, or of the whole token when it
-- has no jti: never the token itself. Rows are purged once `expires_at` (Unix ms) has passed.
CREATE TABLE used_tokens (
    kind       TEXT NOT NULL,
    token_key  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, token_key)
) WITHOUT ROWID;

CREATE INDEX used_tokens_expiry ON used_tokens (expires_at);
