//! Verifying Connect lifecycle callbacks (docs/API.md, Connect routes).
//!
//! - `installed` / `uninstalled` ("signed install"): the JWT must be RS256 with a `kid`
//!   header; the key is Atlassian's, fetched by kid (see `install_keys`). `exp` is checked
//!   with `auth.leeway`, `aud` (a string or a list) must contain the app's `public_url`
//!   (trailing slash ignored), `iss` must equal the body's `clientKey`, and `qsh` must equal
//!   the hash of this request. No HS256 or unsigned install is accepted, for a new or a known
//!   clientKey: the sharedSecret in the body proves nothing about who sent it. A verified
//!   install token is single-use until its `exp` (plus leeway): the caller records the
//!   [`TokenUse`] this returns, keyed by the token's `iss` and `jti`, or by the SHA-256 of the
//!   whole token when it has no `jti` — so a captured token cannot be replayed with another
//!   body (another sharedSecret or baseUrl).
//! - `enabled` / `disabled`: HS256 signed with the installation's stored sharedSecret, `iss`
//!   = clientKey, `exp` and `qsh` checked.
//!
//! Every failure is one `LifecycleError` whose message is safe to answer with (no token, no
//! secret); the caller answers 401 and stores nothing. The exception is a client address that
//! has spent its install-key fetch budget: that is not the token's fault, so it is
//! [`InstallRefusal::KeysBusy`] (503 with `Retry-After`; Atlassian retries).

use std::net::IpAddr;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use sha2::{Digest, Sha256};

use super::install_keys::{InstallKeys, KeyError};
use crate::auth::{RequestTarget, qsh};
use crate::config::Secret;
use crate::store::TokenUse;

/// The `used_tokens` kind of Connect install tokens.
pub const INSTALL_TOKEN_KIND: &str = "connect_install";

/// Why a lifecycle callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LifecycleError(pub String);

/// Why a signed install was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallRefusal {
    /// The token does not verify: 401.
    Invalid(LifecycleError),
    /// This client address spent its install-key fetch budget: 503, retry after the wait.
    KeysBusy(Duration),
}

impl From<LifecycleError> for InstallRefusal {
    fn from(e: LifecycleError) -> Self {
        Self::Invalid(e)
    }
}

fn reject(message: impl Into<String>) -> LifecycleError {
    LifecycleError(message.into())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &str) -> bool {
        let wanted = wanted.trim_end_matches('/');
        let matches = |a: &String| a.trim_end_matches('/') == wanted;
        match self {
            Self::One(a) => matches(a),
            Self::Many(list) => list.iter().any(matches),
        }
    }
}

/// The verified claims the callbacks read beyond `iss`.
#[derive(Deserialize)]
struct Claims {
    exp: i64,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    qsh: Option<String>,
}

/// Verify a signed `installed`/`uninstalled` token for `client_key` (from the body), sent from
/// `client` (whose fetch budget a key fetch spends); the use to record before acting on it.
pub async fn verify_signed_install(
    keys: &InstallKeys,
    client: IpAddr,
    token: &str,
    client_key: &str,
    public_url: &str,
    leeway: Duration,
    request: &RequestTarget<'_>,
) -> Result<TokenUse, InstallRefusal> {
    let header = decode_header(token).map_err(|_| reject("the token is malformed"))?;
    if header.alg != Algorithm::RS256 {
        return Err(reject("install callbacks must be signed with RS256 (signed install)").into());
    }
    let kid = header
        .kid
        .ok_or_else(|| reject("the install token has no kid"))?;
    // Everything that needs no key is checked before a key is fetched, so only a token built
    // for this app and this request spends a fetch, and only of its sender's budget.
    precheck(token, client_key, public_url, leeway, request)?;
    let key = keys.key(&kid, client).await.map_err(|e| match e {
        KeyError::Throttled(wait) => InstallRefusal::KeysBusy(wait),
        e => InstallRefusal::Invalid(reject(format!("no install key: {e}"))),
    })?;
    // The signature covers the very payload `precheck` read, so its aud and qsh checks stand;
    // `verify` adds the signature, `exp` and `iss`.
    let claims = verify(token, &key, Algorithm::RS256, client_key, leeway)?;
    Ok(install_token_use(token, client_key, &claims, leeway))
}

/// What names this install token for single use, and until when it could be accepted.
fn install_token_use(token: &str, client_key: &str, claims: &Claims, leeway: Duration) -> TokenUse {
    let digest = match &claims.jti {
        Some(jti) => Sha256::new()
            .chain_update(b"jti\0")
            .chain_update(client_key.as_bytes())
            .chain_update(b"\0")
            .chain_update(jti.as_bytes())
            .finalize(),
        None => Sha256::new()
            .chain_update(b"token\0")
            .chain_update(token.as_bytes())
            .finalize(),
    };
    let until = claims.exp.saturating_add(leeway.as_secs() as i64);
    TokenUse {
        kind: INSTALL_TOKEN_KIND,
        key: hex::encode(digest),
        expires_at: until.saturating_mul(1000),
    }
}

/// Verify an `enabled`/`disabled` token signed with the installation's sharedSecret.
pub fn verify_shared_secret(
    token: &str,
    client_key: &str,
    secret: &Secret,
    leeway: Duration,
    request: &RequestTarget<'_>,
) -> Result<(), LifecycleError> {
    let header = decode_header(token).map_err(|_| reject("the token is malformed"))?;
    if header.alg != Algorithm::HS256 {
        return Err(reject("this callback must be signed with HS256"));
    }
    let key = DecodingKey::from_secret(secret.expose().as_bytes());
    let claims = verify(token, &key, Algorithm::HS256, client_key, leeway)?;
    check_qsh(claims.qsh.as_deref(), request)
}

/// The unverified claims' iss, exp, aud and qsh, read without the key.
fn precheck(
    token: &str,
    client_key: &str,
    public_url: &str,
    leeway: Duration,
    request: &RequestTarget<'_>,
) -> Result<(), LifecycleError> {
    #[derive(Deserialize)]
    struct Unverified {
        iss: Option<String>,
        exp: Option<i64>,
        #[serde(default)]
        aud: Option<Audience>,
        #[serde(default)]
        qsh: Option<String>,
    }
    let claims: Unverified = crate::auth::unverified_claims(token).map_err(reject)?;
    if claims.iss.as_deref() != Some(client_key) {
        return Err(reject("the token's iss is not the body's clientKey"));
    }
    let now = crate::domain::now_ms() / 1000;
    if claims
        .exp
        .is_none_or(|exp| exp.saturating_add(leeway.as_secs() as i64) < now)
    {
        return Err(reject("the token has expired"));
    }
    if !claims.aud.is_some_and(|aud| aud.contains(public_url)) {
        return Err(reject(
            "the token's aud does not contain this app's base URL",
        ));
    }
    check_qsh(claims.qsh.as_deref(), request)
}

fn verify(
    token: &str,
    key: &DecodingKey,
    alg: Algorithm,
    client_key: &str,
    leeway: Duration,
) -> Result<Claims, LifecycleError> {
    let mut validation = Validation::new(alg);
    validation.leeway = leeway.as_secs();
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss"]);
    validation.set_issuer(&[client_key]);
    decode::<Claims>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            reject(match e.kind() {
                K::InvalidSignature => "the token's signature does not verify".to_string(),
                K::ExpiredSignature => "the token has expired".to_string(),
                K::InvalidIssuer => "the token's iss is not the body's clientKey".to_string(),
                K::MissingRequiredClaim(c) => format!("the token has no {c}"),
                K::InvalidAlgorithm => "the token's algorithm is not accepted".to_string(),
                _ => "the token is invalid".to_string(),
            })
        })
}

fn check_qsh(claimed: Option<&str>, request: &RequestTarget<'_>) -> Result<(), LifecycleError> {
    let expected = qsh::qsh(request.method, request.path, request.query);
    match claimed {
        Some(got) if got.eq_ignore_ascii_case(&expected) => Ok(()),
        Some(_) => Err(reject("the token's qsh does not match this request")),
        None => Err(reject("the token has no qsh")),
    }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
