//! What a simulator accepts and how it behaves at start.

use super::facts::SimFacts;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Configuration of one simulator instance.
#[derive(Clone)]
pub struct SimConfig {
    /// "" or e.g. "/jira": the JSM routes are served under it.
    pub context_path: String,
    /// Accepted (email, api_token) pairs for Basic auth.
    pub basic: Vec<(String, String)>,
    /// Accepted Bearer tokens.
    pub bearer_tokens: Vec<String>,
    /// (client_id, client_secret) pairs `POST /_sim/oauth/token` issues access tokens to.
    pub oauth_clients: Vec<(String, String)>,
    /// Life of an issued OAuth access token (its `expires_in`); default one hour.
    pub oauth_token_ttl: Duration,
    /// Accepted Connect JWTs (HS256 with the shared secret, `iss` = app key).
    pub connect: Option<SimConnect>,
    /// User search omits `emailAddress`.
    pub hide_emails: bool,
    /// Added to every JSM API response.
    pub latency: Duration,
    /// Token bucket over every JSM API request.
    pub rate_limit: Option<SimRateLimit>,
    /// Life of an app system token the simulator issues as the Forge platform; default 4 h.
    pub forge_token_ttl: Duration,
    /// The §17 switches at start (and after `/_sim/reset`).
    pub facts: SimFacts,
}

/// The Connect app the simulator trusts.
#[derive(Clone)]
pub struct SimConnect {
    /// Expected `iss` of the JWT.
    pub app_key: String,
    /// HS256 key of the JWT.
    pub shared_secret: String,
}

/// A token bucket: `burst` tokens, refilled at `per_second`; an empty bucket answers 429.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimRateLimit {
    /// Refill rate, tokens per second.
    pub per_second: f64,
    /// Bucket size (and the tokens available at start).
    pub burst: u32,
    /// Value of the `Retry-After` header on a 429.
    pub retry_after_secs: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            context_path: String::new(),
            basic: Vec::new(),
            bearer_tokens: Vec::new(),
            oauth_clients: Vec::new(),
            oauth_token_ttl: Duration::from_secs(3600),
            connect: None,
            hide_emails: false,
            latency: Duration::ZERO,
            rate_limit: None,
            forge_token_ttl: Duration::from_secs(4 * 3600),
            facts: SimFacts::default(),
        }
    }
}

impl SimConfig {
    /// The context path normalised: "" or "/x/y" without trailing slash.
    pub(crate) fn normalised_context_path(&self) -> String {
        let trimmed = self.context_path.trim_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        }
    }
}
