//! OAuth 2.0 client credentials (RFC 6749 §4.4) for one tenant: the access token JSM calls
//! carry as `Bearer`.
//!
//! Caching policy:
//! - A token is fetched on first use (a form-encoded `grant_type=client_credentials`,
//!   `client_id`, `client_secret` POST to `token_url`) and reused by every call of the tenant
//!   until shortly before it expires: `expires_in` minus min(60 s, 10 % of `expires_in`), so a
//!   token is never sent in its last moments and a short-lived one is still used for most of
//!   its life. A response without `expires_in` is cached for [`DEFAULT_EXPIRES_IN`].
//! - One fetch at a time: the cache sits behind an async mutex held across the fetch, so
//!   however many calls wait for a token, one request goes to the token endpoint and the
//!   waiters take its token. A fetch that fails is shared the same way: a caller that started
//!   waiting before the failure gets that error instead of fetching again (the next delivery
//!   run, after its backoff, tries anew).
//! - A 401 from JSM invalidates the token that call used (not a newer one another call has
//!   already fetched); the client then retries that call once with a fresh token.
//! - Failures are [`JsmError::Auth`] (retryable). Their text names the token endpoint's
//!   status and its OAuth `error` code, never the client secret or a token.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::JsmError;
use crate::config::Secret;
use crate::outbound::{MAX_BODY, ReadError, read_capped};

/// How long a token is kept when the endpoint does not say (`expires_in` is optional).
pub const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(300);
/// The most a token's life is cut short by.
const MAX_MARGIN: Duration = Duration::from_secs(60);

/// The access tokens of one tenant: fetched, cached, shared by all its calls.
pub struct OAuthTokenSource {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: Secret,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    token: Option<CachedToken>,
    /// The last failed fetch: when it ended, and its error.
    failure: Option<(Instant, JsmError)>,
}

struct CachedToken {
    access_token: Secret,
    refresh_at: Instant,
}

/// The token endpoint's success body (RFC 6749 §5.1).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    expires_in: Option<u64>,
}

/// The token endpoint's error body (RFC 6749 §5.2).
#[derive(Deserialize)]
struct TokenError {
    error: String,
    error_description: Option<String>,
}

impl OAuthTokenSource {
    /// The OAuth client this source fetches tokens for (the app whose quota its calls draw on).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// A source for `client_id`/`client_secret` at `token_url`; `timeout` bounds each fetch.
    pub fn new(
        client_id: String,
        client_secret: Secret,
        token_url: String,
        timeout: Duration,
    ) -> Result<Self, String> {
        let http = crate::outbound::client_builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the OAuth HTTP client: {e}"))?;
        Ok(Self {
            http,
            token_url,
            client_id,
            client_secret,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// A valid access token: the cached one, or a fresh one (one fetch for all waiters).
    pub async fn token(&self) -> Result<Secret, JsmError> {
        let asked_at = Instant::now();
        let mut cache = self.cache.lock().await;
        if let Some(cached) = &cache.token
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.access_token.clone());
        }
        if let Some((failed_at, error)) = &cache.failure
            && *failed_at >= asked_at
        {
            return Err(error.clone());
        }
        let fetched_at = Instant::now();
        match self.fetch().await {
            Ok((access_token, expires_in)) => {
                cache.token = Some(CachedToken {
                    access_token: access_token.clone(),
                    refresh_at: fetched_at + cache_for(expires_in),
                });
                cache.failure = None;
                Ok(access_token)
            }
            Err(error) => {
                cache.token = None;
                cache.failure = Some((Instant::now(), error.clone()));
                Err(error)
            }
        }
    }

    /// Forget `used` after JSM refused it, unless a newer token already replaced it.
    pub async fn invalidate(&self, used: &str) {
        let mut cache = self.cache.lock().await;
        if cache
            .token
            .as_ref()
            .is_some_and(|t| t.access_token.expose() == used)
        {
            cache.token = None;
        }
    }

    async fn fetch(&self) -> Result<(Secret, Option<u64>), JsmError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
        ];
        let response = self
            .http
            .post(&self.token_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| auth_error(format!("token endpoint unreachable: {}", e.without_url())))?;
        let status = response.status();
        let body = read_capped(response, MAX_BODY).await.map_err(|e| match e {
            ReadError::Http(e) => auth_error(format!("token endpoint: {}", e.without_url())),
            too_large => auth_error(format!("token endpoint: {too_large}")),
        })?;
        if status.is_redirection() {
            // Not followed: the form carries the client secret (see `outbound`).
            return Err(auth_error(format!(
                "token endpoint answered {status}; redirects are not followed, configure the \
                 final token_url"
            )));
        }
        if !status.is_success() {
            return Err(auth_error(endpoint_refusal(status.as_u16(), &body)));
        }
        parse_token_response(&body)
    }
}

fn auth_error(message: String) -> JsmError {
    JsmError::Auth(format!("OAuth {message}"))
}

/// How long a token that lives `expires_in` seconds (when said) is used.
fn cache_for(expires_in: Option<u64>) -> Duration {
    let life = expires_in.map_or(DEFAULT_EXPIRES_IN, Duration::from_secs);
    life - MAX_MARGIN.min(life / 10)
}

/// The access token and its `expires_in`, from a 2xx body.
fn parse_token_response(body: &[u8]) -> Result<(Secret, Option<u64>), JsmError> {
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        // serde's message names the missing field or the position, never the values.
        auth_error(format!("token endpoint answered an unexpected body: {e}"))
    })?;
    if !parsed.token_type.eq_ignore_ascii_case("bearer") {
        return Err(auth_error(format!(
            "token endpoint issued a {:?} token, not a Bearer token",
            parsed.token_type.chars().take(20).collect::<String>()
        )));
    }
    if parsed.access_token.is_empty() {
        return Err(auth_error("token endpoint issued an empty token".into()));
    }
    Ok((Secret::new(parsed.access_token), parsed.expires_in))
}

/// What a non-2xx token endpoint answer says: its status and OAuth error code.
fn endpoint_refusal(status: u16, body: &[u8]) -> String {
    let detail = serde_json::from_slice::<TokenError>(body)
        .map(|e| {
            let code: String = e.error.chars().take(64).collect();
            match e.error_description {
                Some(d) => format!(": {code} ({})", d.chars().take(200).collect::<String>()),
                None => format!(": {code}"),
            }
        })
        .unwrap_or_default();
    format!(
        "token endpoint answered {status}{detail}; check the tenant's client_id and client_secret"
    )
}

#[cfg(test)]
#[path = "oauth_tests.rs"]
mod tests;
