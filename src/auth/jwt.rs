//! Inbound JWT verification (SPEC §4): the `iss` picks the source, only that source's keys and
//! their algorithm family are tried, and the time, lifetime, audience and qsh rules apply.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::qsh;
use crate::config::{Config, Secret};
use crate::domain::now_ms;

/// Why a token was refused; the message is safe to show the sender (it never echoes the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(pub String);

fn reject(message: impl Into<String>) -> TokenError {
    TokenError(message.into())
}

/// What a verified token tells the intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub source_id: String,
    pub jti: Option<String>,
}

/// The request a token must be bound to when it carries a `qsh`.
pub struct RequestTarget<'a> {
    pub method: &'a str,
    /// The raw path, relative to `server.public_url`'s own path.
    pub path: &'a str,
    pub query: &'a str,
}

/// The keys one source signs with.
#[derive(Clone)]
enum SourceKeys {
    Hmac(Vec<Secret>),
    /// Public keys and JWKS are parsed from the config but not verified by this version.
    Unsupported(&'static str),
}

#[derive(Clone)]
struct SourceVerifier {
    keys: SourceKeys,
    audience: Option<String>,
}

/// Verifies inbound tokens against the configured sources.
#[derive(Clone)]
pub struct TokenVerifier {
    sources: HashMap<String, SourceVerifier>,
    leeway: Duration,
    max_lifetime: Duration,
}

#[derive(Deserialize)]
struct UnverifiedClaims {
    iss: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iat: i64,
    exp: i64,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    qsh: Option<String>,
}

const HMAC_ALGS: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

impl TokenVerifier {
    pub fn from_config(config: &Config) -> Self {
        let sources = config
            .sources
            .iter()
            .map(|s| {
                let secrets: Vec<Secret> = s.hmac_secrets().cloned().collect();
                let keys = if !secrets.is_empty() {
                    SourceKeys::Hmac(secrets)
                } else if s.jwks_url.is_some() {
                    SourceKeys::Unsupported("jwks_url")
                } else {
                    SourceKeys::Unsupported("public keys")
                };
                if let SourceKeys::Unsupported(kind) = keys {
                    tracing::warn!(source = %s.id, "this version cannot verify tokens signed for {kind} yet; the source's tokens are refused");
                }
                let verifier = SourceVerifier {
                    keys,
                    audience: s.audience.clone(),
                };
                (s.id.clone(), verifier)
            })
            .collect();
        Self {
            sources,
            leeway: config.auth.leeway,
            max_lifetime: config.auth.max_token_lifetime,
        }
    }

    /// Add (or replace) an HMAC source at run time (the sandbox's generated source).
    pub fn add_hmac_source(&mut self, id: &str, secret: Secret) {
        self.sources.insert(
            id.to_string(),
            SourceVerifier {
                keys: SourceKeys::Hmac(vec![secret]),
                audience: None,
            },
        );
    }

    /// Verify `token` for a request; on success the source it came from.
    pub fn verify(
        &self,
        token: &str,
        request: &RequestTarget<'_>,
    ) -> Result<VerifiedToken, TokenError> {
        let header = decode_header(token).map_err(|_| reject("the token is malformed"))?;
        let iss = unverified_issuer(token)?;
        let source = self
            .sources
            .get(&iss)
            .ok_or_else(|| reject("the token's issuer is not a known source"))?;
        let claims = match &source.keys {
            SourceKeys::Hmac(secrets) => {
                if !HMAC_ALGS.contains(&header.alg) {
                    return Err(reject(format!(
                        "algorithm {:?} is not accepted for this source",
                        header.alg
                    )));
                }
                let validation = self.validation(header.alg, &iss, source.audience.as_deref());
                let mut last = reject("the token's signature does not verify");
                let mut verified = None;
                for secret in secrets {
                    let key = DecodingKey::from_secret(secret.expose().as_bytes());
                    match decode::<Claims>(token, &key, &validation) {
                        Ok(data) => {
                            verified = Some(data.claims);
                            break;
                        }
                        Err(e) => last = describe(&e),
                    }
                }
                verified.ok_or(last)?
            }
            SourceKeys::Unsupported(kind) => {
                return Err(reject(format!(
                    "this source is configured with {kind}, which this version cannot verify yet"
                )));
            }
        };
        self.check_times(&claims)?;
        if let Some(hash) = &claims.qsh {
            let expected = qsh::qsh(request.method, request.path, request.query);
            if !hash.eq_ignore_ascii_case(&expected) {
                return Err(reject("the token's qsh does not match this request"));
            }
        }
        Ok(VerifiedToken {
            source_id: iss,
            jti: claims.jti,
        })
    }

    fn validation(&self, alg: Algorithm, iss: &str, audience: Option<&str>) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_issuer(&[iss]);
        match audience {
            Some(aud) => {
                validation.set_required_spec_claims(&["iss", "iat", "exp", "aud"]);
                validation.set_audience(&[aud]);
            }
            None => {
                validation.set_required_spec_claims(&["iss", "iat", "exp"]);
                validation.validate_aud = false;
            }
        }
        validation
    }

    fn check_times(&self, claims: &Claims) -> Result<(), TokenError> {
        let now = now_ms() / 1000;
        let leeway = self.leeway.as_secs() as i64;
        if claims.iat > now + leeway {
            return Err(reject("the token's iat is in the future"));
        }
        if claims.exp - claims.iat > self.max_lifetime.as_secs() as i64 {
            return Err(reject(format!(
                "the token's lifetime (exp - iat) is over the allowed {}",
                humantime::format_duration(self.max_lifetime)
            )));
        }
        Ok(())
    }
}

fn unverified_issuer(token: &str) -> Result<String, TokenError> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| reject("the token is malformed"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| reject("the token is malformed"))?;
    let claims: UnverifiedClaims =
        serde_json::from_slice(&bytes).map_err(|_| reject("the token's claims are malformed"))?;
    claims.iss.ok_or_else(|| reject("the token has no iss"))
}

fn describe(e: &jsonwebtoken::errors::Error) -> TokenError {
    use jsonwebtoken::errors::ErrorKind as K;
    reject(match e.kind() {
        K::InvalidSignature => "the token's signature does not verify".to_string(),
        K::ExpiredSignature => "the token has expired".to_string(),
        K::ImmatureSignature => "the token is not valid yet (nbf)".to_string(),
        K::InvalidAudience => "the token's aud is not accepted".to_string(),
        K::InvalidIssuer => "the token's iss does not match".to_string(),
        K::MissingRequiredClaim(claim) => format!("the token has no {claim}"),
        K::InvalidAlgorithm => "the token's algorithm is not accepted".to_string(),
        _ => "the token is invalid".to_string(),
    })
}
