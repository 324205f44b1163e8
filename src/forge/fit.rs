//! Forge Invocation Token verification. A FIT is accepted only when all of these hold:
//!
//! - RS256, with a `kid` header naming a key of `forge.jwks_url` (cached, refreshed and kept
//!   while the host is down exactly as for JWKS sources);
//! - `iss` = `forge/invocation-token`, `aud` = `forge.app_id`;
//! - `iat`, `nbf`, `exp` and `jti` present, the times checked with `auth.leeway`;
//! - `app.id` = `forge.app_id`, `app.installationId` present;
//! - `app.environment.type` on `forge.environments` (when that list is not empty);
//! - `app.apiBaseUrl` https on a `forge.api_hosts` host, or http/https on a loopback host.
//!
//! The `jti` is then used once (the caller records it): every Forge call, retries included,
//! carries a fresh FIT. Anything else is refused; the reason is safe to answer with and names
//! no token.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::jwks::{FETCH_TIMEOUT, JwksSource};
use crate::auth::keys::KeyKind;
use crate::config::{Config, ForgeConfig};
use crate::domain::now_ms;
use crate::store::TokenUse;

/// The `iss` of every FIT.
pub const FIT_ISSUER: &str = "forge/invocation-token";
/// The `used_tokens` kind of FIT jtis.
pub const FIT_KIND: &str = "forge_invocation";

/// Why a FIT was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FitRejected(pub String);

fn reject(reason: impl Into<String>) -> FitRejected {
    FitRejected(reason.into())
}

/// What a verified FIT says about the call.
#[derive(Debug, Clone)]
pub struct VerifiedFit {
    pub installation_id: String,
    pub app_id: String,
    pub environment_type: Option<String>,
    pub environment_id: Option<String>,
    pub api_base_url: String,
    pub cloud_id: Option<String>,
    pub site_url: Option<String>,
    /// The jti's single use, to record before anything else is written.
    pub jti: TokenUse,
}

#[derive(Deserialize)]
struct Claims {
    iat: i64,
    exp: i64,
    #[allow(dead_code)] // required present; jsonwebtoken checks its value
    nbf: i64,
    jti: String,
    app: App,
    #[serde(default)]
    context: Option<Context>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct App {
    id: Option<String>,
    installation_id: Option<String>,
    api_base_url: Option<String>,
    #[serde(default)]
    environment: Option<Environment>,
}

#[derive(Deserialize)]
struct Environment {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Context {
    cloud_id: Option<String>,
    site_url: Option<String>,
}

/// Verifies FITs for the configured app.
pub struct FitVerifier {
    forge: ForgeConfig,
    leeway: Duration,
    jwks: Arc<JwksSource>,
}

impl FitVerifier {
    /// None while `forge.app_id` is empty (the routes are off).
    pub fn from_config(config: &Config) -> Result<Option<Self>, reqwest::Error> {
        if !config.forge.enabled() {
            return Ok(None);
        }
        let client = crate::outbound::client_builder()
            .timeout(FETCH_TIMEOUT)
            .build()?;
        let jwks = JwksSource::new(
            "forge",
            &config.forge.jwks_url,
            client,
            config.auth.jwks_cache_ttl,
            config.auth.jwks_refresh_cooldown,
        );
        Ok(Some(Self {
            forge: config.forge.clone(),
            leeway: config.auth.leeway,
            jwks: Arc::new(jwks),
        }))
    }

    /// Fetch Forge's keys in the background (a host down at start is retried by later FITs).
    pub fn prefetch(&self) {
        let jwks = Arc::clone(&self.jwks);
        tokio::spawn(async move { jwks.prefetch().await });
    }

    /// Verify a FIT (see the module doc).
    pub async fn verify(&self, token: &str) -> Result<VerifiedFit, FitRejected> {
        let header = decode_header(token).map_err(|_| reject("the FIT is malformed"))?;
        if header.alg != Algorithm::RS256 {
            return Err(reject("a FIT must be signed with RS256"));
        }
        let kid = header
            .kid
            .filter(|k| !k.is_empty())
            .ok_or_else(|| reject("the FIT has no kid"))?;
        let keys = self.jwks.keys_for(Some(&kid)).await;
        let keys: Vec<_> = keys
            .into_iter()
            .filter(|k| k.kind() == KeyKind::Rsa && k.accepts(Algorithm::RS256))
            .collect();
        if keys.is_empty() {
            return Err(reject("the FIT's kid is not a known Forge key"));
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = self.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["iss", "aud", "exp", "nbf"]);
        validation.set_issuer(&[FIT_ISSUER]);
        validation.set_audience(&[self.forge.app_id.as_str()]);
        let mut last = reject("the FIT's signature does not verify");
        let mut claims = None;
        for key in &keys {
            match decode::<Claims>(token, key.decoding_key(), &validation) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) => last = describe(&e),
            }
        }
        self.check(claims.ok_or(last)?)
    }

    fn check(&self, claims: Claims) -> Result<VerifiedFit, FitRejected> {
        let leeway = self.leeway.as_secs() as i64;
        if claims.iat > (now_ms() / 1000).saturating_add(leeway) {
            return Err(reject("the FIT's iat is in the future"));
        }
        if claims.jti.is_empty() {
            return Err(reject("the FIT has no jti"));
        }
        let app = claims.app;
        if app.id.as_deref() != Some(self.forge.app_id.as_str()) {
            return Err(reject("the FIT's app.id is not this app"));
        }
        let installation_id = app
            .installation_id
            .filter(|i| !i.trim().is_empty() && i.len() <= 512)
            .ok_or_else(|| reject("the FIT has no app.installationId"))?;
        let (environment_type, environment_id) = match app.environment {
            Some(e) => (e.kind, e.id),
            None => (None, None),
        };
        if !self.forge.environments.is_empty() {
            let allowed = environment_type.as_deref().is_some_and(|t| {
                self.forge
                    .environments
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(t))
            });
            if !allowed {
                return Err(reject("the FIT's app.environment.type is not allowed"));
            }
        }
        let api_base_url = app
            .api_base_url
            .ok_or_else(|| reject("the FIT has no app.apiBaseUrl"))?;
        if !self.forge.api_base_allowed(&api_base_url) {
            return Err(reject("the FIT's app.apiBaseUrl is not on an allowed host"));
        }
        let (cloud_id, site_url) = match claims.context {
            Some(c) => (c.cloud_id, c.site_url),
            None => (None, None),
        };
        let digest = Sha256::digest(format!("{FIT_ISSUER}\n{}", claims.jti));
        Ok(VerifiedFit {
            installation_id,
            app_id: self.forge.app_id.clone(),
            environment_type,
            environment_id,
            api_base_url,
            cloud_id,
            site_url,
            jti: TokenUse {
                kind: FIT_KIND,
                key: hex::encode(digest),
                expires_at: claims.exp.saturating_add(leeway).saturating_mul(1000),
            },
        })
    }
}

fn describe(e: &jsonwebtoken::errors::Error) -> FitRejected {
    use jsonwebtoken::errors::ErrorKind as K;
    reject(match e.kind() {
        K::ExpiredSignature => "the FIT has expired",
        K::ImmatureSignature => "the FIT is not valid yet (nbf)",
        K::InvalidIssuer => "the FIT's iss is not forge/invocation-token",
        K::InvalidAudience => "the FIT's aud is not this app",
        K::MissingRequiredClaim(_) => "the FIT lacks a required claim",
        K::InvalidSignature => "the FIT's signature does not verify",
        K::Json(_) => "the FIT's claims are incomplete (iat, nbf, exp, jti and app are required)",
        _ => "the FIT does not verify",
    })
}

/// The exp (Unix ms) of an app system token, read from its payload; the token is otherwise
/// opaque to the bridge. None when it carries no readable exp.
pub fn system_token_exp(token: &str) -> Option<i64> {
    #[derive(Deserialize)]
    struct Exp {
        exp: i64,
    }
    let claims: Exp = crate::auth::unverified_claims(token).ok()?;
    claims.exp.checked_mul(1000)
}
