//! Atlassian's install keys: the RSA public key that signed an `installed`/`uninstalled`
//! callback, fetched as PEM from `{connect.install_keys_url}/{kid}` and cached per kid.
//!
//! A token's `kid` is attacker-chosen, so fetching is bounded three ways: a kid must look like
//! a key id before it becomes a URL; a kid the key server does not know is remembered as
//! missing for `auth.jwks_refresh_cooldown`; and fetches are limited in concurrency and by a
//! small token bucket per client address (`fetch_budget`), so a flood of random kids costs
//! its sender a handful of fetches and leaves every other address its own budget. A cached
//! key costs no budget. The cache holds at most `MAX_ENTRIES` kids, dropping the ones that
//! expire first. No redirect is followed and a PEM is read up to 16 KiB (see `outbound`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use tokio::sync::Semaphore;

use super::fetch_budget::FetchBudgets;
use crate::outbound::{MAX_PEM, ReadError, read_capped};

const MAX_ENTRIES: usize = 256;
const MAX_CONCURRENT_FETCHES: usize = 2;
/// Fetch budget of each client address: a burst of this many, refilled at one per `REFILL`.
pub const FETCH_BURST: u32 = 10;
const REFILL: Duration = Duration::from_secs(1);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why no key could be had for a kid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the token's kid is not a valid key id")]
    InvalidKid,
    #[error("the install key server does not know the token's kid")]
    Unknown,
    /// This client address has spent its fetch budget; it may try again after the wait.
    #[error("too many install key fetches from this address; try again shortly")]
    Throttled(Duration),
    #[error("the install key server could not be reached: {0}")]
    Unavailable(String),
}

enum Cached {
    Key(DecodingKey),
    Missing,
}

struct Entry {
    value: Cached,
    until: Instant,
}

/// Fetches and caches install keys.
pub struct InstallKeys {
    http: reqwest::Client,
    base_url: String,
    ttl: Duration,
    negative_ttl: Duration,
    cache: Mutex<HashMap<String, Entry>>,
    fetching: Semaphore,
    budgets: FetchBudgets,
}

impl InstallKeys {
    /// `base_url` is `connect.install_keys_url`; keys are kept `ttl`, unknown kids `negative_ttl`.
    pub fn new(base_url: &str, ttl: Duration, negative_ttl: Duration) -> Result<Self, String> {
        let http = crate::outbound::client_builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the install key client: {e}"))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            ttl,
            negative_ttl,
            cache: Mutex::new(HashMap::new()),
            fetching: Semaphore::new(MAX_CONCURRENT_FETCHES),
            budgets: FetchBudgets::new(FETCH_BURST, REFILL),
        })
    }

    /// The public key for `kid`, from the cache or the key server; a fetch is charged to
    /// `client`'s budget.
    pub async fn key(&self, kid: &str, client: IpAddr) -> Result<DecodingKey, KeyError> {
        if !valid_kid(kid) {
            return Err(KeyError::InvalidKid);
        }
        if let Some(cached) = self.cached(kid) {
            return cached;
        }
        let _permit = self
            .fetching
            .acquire()
            .await
            .map_err(|_| KeyError::Unavailable("the fetcher is closed".into()))?;
        // Another request may have fetched it while this one waited.
        if let Some(cached) = self.cached(kid) {
            return cached;
        }
        self.budgets.spend(client).map_err(KeyError::Throttled)?;
        match self.fetch(kid).await {
            Ok(key) => {
                self.remember(kid, Cached::Key(key.clone()), self.ttl);
                Ok(key)
            }
            Err(KeyError::Unknown) => {
                self.remember(kid, Cached::Missing, self.negative_ttl);
                Err(KeyError::Unknown)
            }
            Err(e) => Err(e),
        }
    }

    fn cached(&self, kid: &str) -> Option<Result<DecodingKey, KeyError>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let entry = cache.get(kid).filter(|e| e.until > Instant::now())?;
        Some(match &entry.value {
            Cached::Key(key) => Ok(key.clone()),
            Cached::Missing => Err(KeyError::Unknown),
        })
    }

    fn remember(&self, kid: &str, value: Cached, ttl: Duration) {
        let now = Instant::now();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.retain(|_, e| e.until > now);
        }
        if cache.len() >= MAX_ENTRIES
            && let Some(first) = cache
                .iter()
                .min_by_key(|(_, e)| e.until)
                .map(|(k, _)| k.clone())
        {
            cache.remove(&first);
        }
        let until = now + ttl;
        cache.insert(kid.to_string(), Entry { value, until });
    }

    async fn fetch(&self, kid: &str) -> Result<DecodingKey, KeyError> {
        let url = format!("{}/{kid}", self.base_url);
        let unavailable = |e: reqwest::Error| KeyError::Unavailable(e.without_url().to_string());
        let response = self.http.get(url).send().await.map_err(unavailable)?;
        let status = response.status();
        if status.as_u16() == 404 || status.as_u16() == 410 {
            return Err(KeyError::Unknown);
        }
        if !status.is_success() {
            return Err(KeyError::Unavailable(format!("it answered {status}")));
        }
        let pem = read_capped(response, MAX_PEM).await.map_err(|e| match e {
            ReadError::Http(e) => unavailable(e),
            // Larger than any RSA public key: it names no usable key.
            ReadError::TooLarge(_) => KeyError::Unknown,
        })?;
        // A body that is not an RSA public key names no usable key: treat it as unknown.
        DecodingKey::from_rsa_pem(&pem).map_err(|_| KeyError::Unknown)
    }
}

/// Key ids are UUID-like: letters, digits, `-`, `_`, `.`; no path tricks.
fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= 128
        && !kid.starts_with('.')
        && kid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kids_that_could_change_the_url_are_refused() {
        for ok in ["0e50fccb-239d-3991-a5db-dc850ba3f236", "sim-1", "a.b_c"] {
            assert!(valid_kid(ok), "{ok}");
        }
        let long = "a".repeat(129);
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "a?b",
            "a%2Fb",
            ".hidden",
            long.as_str(),
        ] {
            assert!(!valid_kid(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn redirects_and_oversized_keys_are_refused() {
        use crate::outbound::test_server::{Served, endless_chunked, redirect_to, serve};
        let client = IpAddr::from([127, 0, 0, 1]);
        let target = serve(Served::Body("not reached".into())).await;
        let redirect = redirect_to(&target.url).await;
        let keys = InstallKeys::new(&redirect.url, Duration::ZERO, Duration::ZERO).unwrap();
        let error = keys.key("kid-1", client).await.err();
        assert!(matches!(error, Some(KeyError::Unavailable(_))), "{error:?}");
        assert_eq!((redirect.hits(), target.hits()), (1, 0));
        let endless = endless_chunked().await;
        let keys = InstallKeys::new(&endless.url, Duration::ZERO, Duration::ZERO).unwrap();
        let error = keys.key("kid-1", client).await.err();
        assert_eq!(error, Some(KeyError::Unknown));
    }

    #[tokio::test]
    async fn a_spent_budget_is_throttled_with_a_wait() {
        let keys = InstallKeys::new("http://127.0.0.1:9", Duration::ZERO, Duration::ZERO).unwrap();
        let client = IpAddr::from([127, 0, 0, 1]);
        for i in 0..FETCH_BURST {
            let error = keys.key(&format!("kid-{i}"), client).await.err();
            assert!(matches!(error, Some(KeyError::Unavailable(_))), "{error:?}");
        }
        let error = keys.key("kid-last", client).await.err();
        assert!(
            matches!(error, Some(KeyError::Throttled(wait)) if !wait.is_zero()),
            "{error:?}"
        );
        let other = IpAddr::from([127, 0, 0, 2]);
        let error = keys.key("kid-last", other).await.err();
        assert!(matches!(error, Some(KeyError::Unavailable(_))), "{error:?}");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let keys =
            InstallKeys::new("http://127.0.0.1:9", Duration::ZERO, Duration::ZERO).expect("client");
        for i in 0..(MAX_ENTRIES * 2) {
            keys.remember(
                &format!("kid-{i}"),
                Cached::Missing,
                Duration::from_secs(60),
            );
        }
        assert_eq!(keys.cache.lock().expect("lock").len(), MAX_ENTRIES);
        let last = format!("kid-{}", MAX_ENTRIES * 2 - 1);
        assert_eq!(
            keys.cached(&last).map(|r| r.err()),
            Some(Some(KeyError::Unknown))
        );
    }
}
