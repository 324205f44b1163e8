//! Inbound JWT verification (docs/API.md, credentials): the `iss` picks the source, only that source's keys and
//! their algorithm family are tried, and the time, lifetime, audience and qsh rules apply.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde::Deserialize;

use super::qsh;
use super::source_keys::{SourceKeys, candidate_keys, source_keys};
use crate::config::{Config, ConfigError, Secret};
use crate::domain::now_ms;

/// Why a token was refused; the message is safe to show the sender (it never echoes the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(pub String);

pub(super) fn reject(message: impl Into<String>) -> TokenError {
    TokenError(message.into())
}

/// What a verified token tells the intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub source_id: String,
    pub jti: Option<String>,
    /// Until when (Unix ms) the token is accepted: `exp` plus the leeway.
    pub accepted_until: i64,
}

/// The request a token must be bound to when it carries a `qsh`.
pub struct RequestTarget<'a> {
    pub method: &'a str,
    /// The raw path, relative to `server.public_url`'s own path.
    pub path: &'a str,
    pub query: &'a str,
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

pub(super) const HMAC_ALGS: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

impl TokenVerifier {
    /// The verifier of every configured source. Public key files are read now; a key that
    /// cannot be used is a config error naming its key. JWKS are fetched by [`Self::prefetch_jwks`].
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let mut client = None;
        let mut sources = HashMap::new();
        for (i, s) in config.sources.iter().enumerate() {
            // A signature source's secrets never verify a JWT (docs/INTEGRATIONS.md).
            if !s.verify.is_jwt() {
                continue;
            }
            let keys = source_keys(config, i, s, &mut client)?;
            let verifier = SourceVerifier {
                keys,
                audience: s.audience.clone(),
            };
            sources.insert(s.id.clone(), verifier);
        }
        Ok(Self {
            sources,
            leeway: config.auth.leeway,
            max_lifetime: config.auth.max_token_lifetime,
        })
    }

    /// Fetch every JWKS once, in the background; failures are logged, never fatal.
    pub fn prefetch_jwks(&self) {
        for source in self.sources.values() {
            source.keys.prefetch();
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
    pub async fn verify(
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
        let keys = candidate_keys(&source.keys, &header).await?;
        let validation = self.validation(header.alg, &iss, source.audience.as_deref());
        let mut last = reject("the token's signature does not verify");
        let mut verified = None;
        for key in &keys {
            match decode::<Claims>(token, key, &validation) {
                Ok(data) => {
                    verified = Some(data.claims);
                    break;
                }
                Err(e) => last = describe(&e),
            }
        }
        let claims = verified.ok_or(last)?;
        self.check_times(&claims)?;
        if let Some(hash) = &claims.qsh {
            let expected = qsh::qsh(request.method, request.path, request.query);
            if !hash.eq_ignore_ascii_case(&expected) {
                return Err(reject("the token's qsh does not match this request"));
            }
        }
        let accepted_until = claims
            .exp
            .saturating_add(self.leeway.as_secs() as i64)
            .saturating_mul(1000);
        Ok(VerifiedToken {
            source_id: iss,
            jti: claims.jti,
            accepted_until,
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
        if claims.iat > now.saturating_add(leeway) {
            return Err(reject("the token's iat is in the future"));
        }
        let lifetime = claims.exp.checked_sub(claims.iat).unwrap_or(i64::MAX);
        if claims.iat < 0 || lifetime < 0 || lifetime > self.max_lifetime.as_secs() as i64 {
            return Err(reject(format!(
                "the token's lifetime (exp - iat) is over the allowed {}",
                humantime::format_duration(self.max_lifetime)
            )));
        }
        Ok(())
    }
}

fn unverified_issuer(token: &str) -> Result<String, TokenError> {
    let claims: UnverifiedClaims = super::unverified_claims(token).map_err(reject)?;
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
