//! JWKS sources: keys fetched from a source's `jwks_url` and cached.
//!
//! Cache policy (`[auth]` in docs/CONFIGURATION.md):
//!
//! - The set is fetched once at start, in the background: a host that is down then does not
//!   stop the service; the source's tokens get 401 until a fetch works.
//! - A fetched set is used for `auth.jwks_cache_ttl`; after that the next token refreshes it.
//! - A token whose `kid` is not in the set refreshes it, so a rotated key is picked up.
//! - Whatever triggers it, a source makes at most one fetch attempt per
//!   `auth.jwks_refresh_cooldown` (successful or not), so a flood of random kids, or of tokens
//!   while the host is down, is not a flood of fetches. Requests that need a refresh while one is
//!   in flight wait for it and share its result.
//! - A failed refresh keeps the cached keys ("serve stale"): a JWKS host that goes down leaves
//!   the keys it published working. A successful refresh replaces the set, so a key the host
//!   withdrew stops verifying.
//! - Keys that cannot be used (symmetric, encryption, other curves, bad material) are skipped.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use serde::Deserialize;

use super::keys::PublicKey;
use crate::outbound::{MAX_BODY, ReadError, read_capped};

/// Bound on one JWKS fetch.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// One source's JWKS and its cache.
pub struct JwksSource {
    source_id: String,
    url: String,
    client: reqwest::Client,
    ttl: Duration,
    cooldown: Duration,
    cache: Mutex<Cache>,
    /// Held while fetching: one fetch in flight per source.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Cache {
    keys: Vec<(Option<String>, PublicKey)>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
    /// Counts finished fetch attempts, so a waiter sees that another request fetched for it.
    attempts: u64,
}

impl From<reqwest::Error> for FetchError {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(e.without_url())
    }
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    /// Without its URL: a `jwks_url` may carry credentials, and this error is logged.
    #[error("{0}")]
    Http(reqwest::Error),
    #[error("the JWKS host answered {0}")]
    Status(u16),
    #[error("the document is over {MAX_BODY} bytes")]
    TooLarge,
    #[error("the document is not a JWK set: {0}")]
    NotJwks(#[from] serde_json::Error),
}

impl JwksSource {
    pub fn new(
        source_id: &str,
        url: &str,
        client: reqwest::Client,
        ttl: Duration,
        cooldown: Duration,
    ) -> Self {
        Self {
            source_id: source_id.to_string(),
            url: url.to_string(),
            client,
            ttl,
            cooldown,
            cache: Mutex::new(Cache::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The first fetch, at start; a failure is logged and retried by later tokens.
    pub async fn prefetch(&self) {
        let seen = self.lock().attempts;
        let _guard = self.fetching.lock().await;
        if self.lock().attempts == seen {
            self.refresh().await;
        }
    }

    /// The keys for a token's `kid` (every key when it has none), refreshing the set first when
    /// it is older than the TTL or lacks the kid — within the cooldown.
    pub async fn keys_for(&self, kid: Option<&str>) -> Vec<PublicKey> {
        let (keys, seen) = {
            let cache = self.lock();
            let keys = cache.matching(kid);
            let stale = cache.fetched_at.is_none_or(|at| at.elapsed() >= self.ttl);
            if (!stale && !keys.is_empty()) || !self.may_fetch(&cache) {
                return keys;
            }
            (keys, cache.attempts)
        };
        let _guard = self.fetching.lock().await;
        {
            let cache = self.lock();
            if cache.attempts != seen {
                // Another request fetched while this one waited: use its result.
                return cache.matching(kid);
            }
            if !self.may_fetch(&cache) {
                return keys;
            }
        }
        self.refresh().await;
        self.lock().matching(kid)
    }

    fn may_fetch(&self, cache: &Cache) -> bool {
        cache
            .attempted_at
            .is_none_or(|at| at.elapsed() >= self.cooldown)
    }

    /// Fetch the set; on success replace the cached keys, on failure keep them.
    async fn refresh(&self) {
        let result = self.fetch().await;
        let mut cache = self.lock();
        cache.attempts += 1;
        cache.attempted_at = Some(Instant::now());
        match result {
            Ok(keys) => {
                tracing::info!(source = %self.source_id, keys = keys.len(), "JWKS fetched");
                cache.keys = keys;
                cache.fetched_at = Some(Instant::now());
            }
            Err(e) => tracing::warn!(
                source = %self.source_id,
                url = %crate::config::redact_url(self.url.as_str()),
                cached_keys = cache.keys.len(),
                "JWKS fetch failed, keeping the cached keys: {e}"
            ),
        }
    }

    async fn fetch(&self) -> Result<Vec<(Option<String>, PublicKey)>, FetchError> {
        let response = self
            .client
            .get(&self.url)
            .header("Accept", "application/json")
            .timeout(FETCH_TIMEOUT)
            .send()
            .await?;
        // A redirect is not followed (see `outbound`), so it is a failed fetch like a 5xx.
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let body = read_capped(response, MAX_BODY).await.map_err(|e| match e {
            ReadError::Http(e) => FetchError::from(e),
            ReadError::TooLarge(_) => FetchError::TooLarge,
        })?;
        let set: RawSet = serde_json::from_slice(&body)?;
        Ok(set
            .keys
            .into_iter()
            .filter_map(|raw| self.usable(raw))
            .collect())
    }

    fn usable(&self, raw: serde_json::Value) -> Option<(Option<String>, PublicKey)> {
        let kid = raw.get("kid").and_then(|k| k.as_str()).map(str::to_string);
        let parsed = serde_json::from_value::<Jwk>(raw)
            .map_err(|e| e.to_string())
            .and_then(|jwk| PublicKey::from_jwk(&jwk).map_err(|e| e.to_string()));
        match parsed {
            Ok(key) => Some((kid, key)),
            Err(reason) => {
                tracing::debug!(source = %self.source_id, kid = ?kid, "JWKS key skipped: {reason}");
                None
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Cache {
    fn matching(&self, kid: Option<&str>) -> Vec<PublicKey> {
        self.keys
            .iter()
            .filter(|(k, _)| kid.is_none() || k.as_deref() == kid)
            .map(|(_, key)| key.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::test_server::{Served, endless_chunked, redirect_to, serve};

    fn source(url: &str) -> JwksSource {
        let client = crate::outbound::client_builder().build().unwrap();
        JwksSource::new("s", url, client, Duration::ZERO, Duration::ZERO)
    }

    #[tokio::test]
    async fn a_redirecting_jwks_url_is_not_followed() {
        let target = serve(Served::Body(r#"{"keys":[]}"#.into())).await;
        let redirect = redirect_to(&target.url).await;
        let error = source(&redirect.url).fetch().await.err();
        assert!(matches!(error, Some(FetchError::Status(307))), "{error:?}");
        assert_eq!(redirect.hits(), 1);
        assert_eq!(target.hits(), 0);
    }

    #[tokio::test]
    async fn an_endless_jwks_is_cut_at_the_cap() {
        let endless = endless_chunked().await;
        let error = source(&endless.url).fetch().await.err();
        assert!(matches!(error, Some(FetchError::TooLarge)), "{error:?}");
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[tokio::test]
    async fn fetch_errors_do_not_carry_the_url() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let raw = reqwest::Client::new()
            .get("http://jwks-user:jwks-pass@127.0.0.1:1/keys?token=jwks-token")
            .send()
            .await
            .expect_err("nothing listens on port 1");
        assert!(raw.to_string().contains("jwks-token"), "the premise: {raw}");
        let shown = FetchError::from(raw).to_string();
        for leaked in ["jwks-user", "jwks-pass", "jwks-token"] {
            assert!(!shown.contains(leaked), "{shown}");
        }
    }
}
