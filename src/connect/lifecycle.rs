//! Verifying Connect lifecycle callbacks (SPEC §5).
//!
//! - `installed` / `uninstalled` ("signed install"): the JWT must be RS256 with a `kid`
//!   header; the key is Atlassian's, fetched by kid (see `install_keys`). `exp` is checked
//!   with `auth.leeway`, `aud` (a string or a list) must contain the app's `public_url`
//!   (trailing slash ignored), `iss` must equal the body's `clientKey`, and `qsh` must equal
//!   the hash of this request. No HS256 or unsigned install is accepted, for a new or a known
//!   clientKey: the sharedSecret in the body proves nothing about who sent it.
//! - `enabled` / `disabled`: HS256 signed with the installation's stored sharedSecret, `iss`
//!   = clientKey, `exp` and `qsh` checked.
//!
//! Every failure is one `LifecycleError` whose message is safe to answer with (no token, no
//! secret); the caller answers 401 and stores nothing.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::install_keys::InstallKeys;
use crate::auth::{RequestTarget, qsh};
use crate::config::Secret;

/// Why a lifecycle callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LifecycleError(pub String);

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

/// The verified claims the callbacks read beyond `exp` and `iss`.
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    qsh: Option<String>,
}

/// Verify a signed `installed`/`uninstalled` token for `client_key` (from the body).
pub async fn verify_signed_install(
    keys: &InstallKeys,
    token: &str,
    client_key: &str,
    public_url: &str,
    leeway: Duration,
    request: &RequestTarget<'_>,
) -> Result<(), LifecycleError> {
    let header = decode_header(token).map_err(|_| reject("the token is malformed"))?;
    if header.alg != Algorithm::RS256 {
        return Err(reject(
            "install callbacks must be signed with RS256 (signed install)",
        ));
    }
    let kid = header
        .kid
        .ok_or_else(|| reject("the install token has no kid"))?;
    // Everything that needs no key is checked before a key is fetched, so a stream of forged
    // tokens with random kids cannot spend the fetch budget that real installs rely on.
    precheck(token, client_key, public_url, leeway, request)?;
    let key = keys
        .key(&kid)
        .await
        .map_err(|e| reject(format!("no install key: {e}")))?;
    // The signature covers the very payload `precheck` read, so its aud and qsh checks stand;
    // `verify` adds the signature, `exp` and `iss`.
    verify(token, &key, Algorithm::RS256, client_key, leeway).map(|_| ())
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
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    fn target() -> RequestTarget<'static> {
        RequestTarget {
            method: "POST",
            path: "/lifecycle/enabled",
            query: "",
        }
    }

    fn hs(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn audience_forms() {
        let one = Audience::One("https://b.example.com/".into());
        assert!(one.contains("https://b.example.com"));
        let many = Audience::Many(vec!["x".into(), "https://b.example.com".into()]);
        assert!(many.contains("https://b.example.com/"));
        assert!(
            !Audience::One("https://evil.example.com".into()).contains("https://b.example.com")
        );
    }

    #[test]
    fn shared_secret_tokens() {
        let secret = Secret::new("s3cret");
        let exp = crate::domain::now_ms() / 1000 + 60;
        let good_qsh = qsh::qsh("POST", "/lifecycle/enabled", "");
        let ok = hs(json!({"iss": "ck", "exp": exp, "qsh": good_qsh}), "s3cret");
        let leeway = Duration::from_secs(0);
        assert_eq!(
            verify_shared_secret(&ok, "ck", &secret, leeway, &target()),
            Ok(())
        );
        let cases = [
            hs(json!({"iss": "ck", "exp": exp, "qsh": good_qsh}), "other"),
            hs(
                json!({"iss": "other", "exp": exp, "qsh": good_qsh}),
                "s3cret",
            ),
            hs(json!({"iss": "ck", "exp": exp, "qsh": "00"}), "s3cret"),
            hs(json!({"iss": "ck", "exp": exp}), "s3cret"),
            hs(
                json!({"iss": "ck", "exp": exp - 120, "qsh": good_qsh}),
                "s3cret",
            ),
            hs(json!({"iss": "ck", "qsh": good_qsh}), "s3cret"),
            "not-a-token".to_string(),
        ];
        for token in cases {
            assert!(verify_shared_secret(&token, "ck", &secret, leeway, &target()).is_err());
        }
    }
}
