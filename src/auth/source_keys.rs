//! The keys of one source (HMAC secrets, a public key, or a JWKS) and which of them may verify
//! a given token: only the source's own, and only for the algorithms of their key type.

use std::sync::Arc;

use jsonwebtoken::{DecodingKey, Header};

use super::jwks::{FETCH_TIMEOUT, JwksSource};
use super::jwt::{HMAC_ALGS, TokenError, reject};
use super::keys::{PublicKey, configured_public_key};
use crate::config::{Config, ConfigError, Secret, SourceConfig};

/// The keys one source signs with.
#[derive(Clone)]
pub(super) enum SourceKeys {
    Hmac(Vec<Secret>),
    /// `public_key_pem` / `public_key_file`, loaded at start.
    Public(PublicKey),
    Jwks(Arc<JwksSource>),
}

impl SourceKeys {
    /// Start the first JWKS fetch in the background (nothing for other kinds).
    pub(super) fn prefetch(&self) {
        if let Self::Jwks(jwks) = self {
            let jwks = Arc::clone(jwks);
            tokio::spawn(async move { jwks.prefetch().await });
        }
    }
}

/// Every source's `public_key_pem` / `public_key_file` read and parsed, so `check-config`
/// refuses a bad key as `serve` does; the error names the key.
pub fn check_public_keys(config: &Config) -> Result<(), String> {
    for (i, source) in config.sources.iter().enumerate() {
        configured_public_key(source, &format!("sources[{i}]")).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The keys of the source at `index`; one HTTP client is shared by every JWKS source.
pub(super) fn source_keys(
    config: &Config,
    index: usize,
    source: &SourceConfig,
    client: &mut Option<reqwest::Client>,
) -> Result<SourceKeys, ConfigError> {
    let prefix = format!("sources[{index}]");
    let secrets: Vec<Secret> = source.hmac_secrets().cloned().collect();
    if !secrets.is_empty() {
        return Ok(SourceKeys::Hmac(secrets));
    }
    if let Some(key) =
        configured_public_key(source, &prefix).map_err(|e| ConfigError(e.to_string()))?
    {
        return Ok(SourceKeys::Public(key));
    }
    let Some(url) = &source.jwks_url else {
        return Err(ConfigError(format!(
            "key `{prefix}`: the source has no key"
        )));
    };
    let client = match client {
        Some(client) => client.clone(),
        None => {
            let built = crate::outbound::client_builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .map_err(|e| ConfigError(format!("key `{prefix}.jwks_url`: {e}")))?;
            client.insert(built).clone()
        }
    };
    Ok(SourceKeys::Jwks(Arc::new(JwksSource::new(
        &source.id,
        url,
        client,
        config.auth.jwks_cache_ttl,
        config.auth.jwks_refresh_cooldown,
    ))))
}

/// The keys that may verify this token: only the source's, and only for their algorithms.
pub(super) async fn candidate_keys(
    keys: &SourceKeys,
    header: &Header,
) -> Result<Vec<DecodingKey>, TokenError> {
    let alg = header.alg;
    let refused = || reject(format!("algorithm {alg:?} is not accepted for this source"));
    match keys {
        SourceKeys::Hmac(secrets) if HMAC_ALGS.contains(&alg) => Ok(secrets
            .iter()
            .map(|s| DecodingKey::from_secret(s.expose().as_bytes()))
            .collect()),
        SourceKeys::Public(key) if key.accepts(alg) => Ok(vec![key.decoding_key().clone()]),
        SourceKeys::Jwks(jwks) if !HMAC_ALGS.contains(&alg) => {
            let found = jwks.keys_for(header.kid.as_deref()).await;
            if found.is_empty() {
                return Err(reject(match &header.kid {
                    Some(_) => "the token's kid is not in the source's JWKS",
                    None => "the source's JWKS has no key (yet)",
                }));
            }
            let usable: Vec<DecodingKey> = found
                .iter()
                .filter(|k| k.accepts(alg))
                .map(|k| k.decoding_key().clone())
                .collect();
            if usable.is_empty() {
                return Err(refused());
            }
            Ok(usable)
        }
        _ => Err(refused()),
    }
}
