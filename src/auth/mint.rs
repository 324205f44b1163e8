//! Minting HS256 tokens for an HMAC source (the `token` command and the sandbox's curl line).

use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Map, Value, json};

use crate::domain::now_ms;

/// A signed HS256 JWT with `iss`, `iat`, `exp` = iat + `ttl`, and `jti`/`aud` when given.
pub fn mint_hs256(
    secret: &str,
    issuer: &str,
    ttl: Duration,
    jti: Option<&str>,
    audience: Option<&str>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let iat = now_ms() / 1000;
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("iat".into(), json!(iat));
    claims.insert("exp".into(), json!(iat + ttl.as_secs() as i64));
    if let Some(jti) = jti {
        claims.insert("jti".into(), json!(jti));
    }
    if let Some(aud) = audience {
        claims.insert("aud".into(), json!(aud));
    }
    encode(
        &Header::default(),
        &Value::Object(claims),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}
