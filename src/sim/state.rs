//! What the simulator holds: customers, their requests (issues), the request log, faults and
//! the mutable settings.

pub use super::accounts::SimCustomer;
use super::bucket::TokenBucket;
use super::config::{SimConfig, SimConnect, SimRateLimit};
use super::facts::SimFacts;
use super::faults::{Fault, FaultAction, FaultQueue};
pub use super::issues::SimIssue;
use super::oauth::OAuthTokens;
use serde::Serialize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One JSM API request as received, and how it was answered.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    /// Arrival number, from 0 (not reset by `reset`).
    pub seq: u64,
    /// When the request arrived (before any latency).
    #[serde(skip)]
    pub received_at: SystemTime,
    pub received_at_ms: u64,
    pub method: String,
    /// Raw path as received, context path included.
    pub path: String,
    /// Raw query string, without `?`.
    pub query: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub x_experimentalapi: Option<String>,
    /// The W3C trace context a caller propagates (the bridge sends it when it exports traces).
    pub traceparent: Option<String>,
    pub body: String,
    /// Status answered; None while in flight or when the connection was dropped.
    pub status: Option<u16>,
    /// When the response was sent (or the connection dropped).
    #[serde(skip)]
    pub responded_at: Option<SystemTime>,
    pub responded_at_ms: Option<u64>,
    /// The connection was closed without a response (a Drop fault).
    pub dropped: bool,
}

/// Shared, cloneable handle on the simulator's state.
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Mutex<Inner>>,
    config: Arc<SimConfig>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) customers: Vec<SimCustomer>,
    /// Customer requests raised through `POST /rest/servicedeskapi/request`.
    pub(crate) issues: Vec<SimIssue>,
    pub(crate) requests: Vec<LoggedRequest>,
    pub(crate) faults: FaultQueue,
    pub(crate) hide_emails: bool,
    pub(crate) latency: Duration,
    pub(crate) bucket: Option<TokenBucket>,
    pub(crate) base_url: String,
    /// The site's cloudId (`/_edge/tenant_info`, the gateway path `/ex/jira/{cloudId}`).
    pub(crate) cloud_id: String,
    /// The §17 switches, as changed by `POST /_sim/config`.
    pub(crate) facts: SimFacts,
    /// Connect apps installed through `/_sim/install`, by clientKey (survive `reset`).
    pub(crate) installed: Vec<(String, SimConnect)>,
    /// OAuth access tokens issued by `/_sim/oauth/token` (survive `reset`).
    pub(crate) oauth: OAuthTokens,
    /// The Forge platform's tokens, installs and modes (survive `reset`).
    pub(crate) forge: super::forge_state::ForgeSim,
    /// The Forge app of the last trigger that named one.
    pub(crate) forge_app_id: Option<String>,
    /// Survives `reset`, so an in-flight request never updates a newer entry.
    next_seq: u64,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl SimState {
    pub(crate) fn new(config: SimConfig) -> SimState {
        let state = SimState {
            inner: Arc::new(Mutex::new(Inner::default())),
            config: Arc::new(config),
        };
        state.reset();
        state
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn config(&self) -> &SimConfig {
        &self.config
    }

    pub(crate) fn set_base_url(&self, base_url: String, cloud_id: String) {
        let mut inner = self.lock();
        inner.base_url = base_url;
        inner.cloud_id = cloud_id;
    }

    /// The site's cloudId.
    pub fn cloud_id(&self) -> String {
        self.lock().cloud_id.clone()
    }

    /// The §17 switches now in force.
    pub fn facts(&self) -> SimFacts {
        self.lock().facts.clone()
    }

    /// Changes the §17 switches.
    pub fn update_facts(&self, change: impl FnOnce(&mut SimFacts)) {
        change(&mut self.lock().facts);
    }

    /// Adds an account (as `POST /_sim/accounts` does); its accountId.
    pub fn add_account(&self, mut account: SimCustomer) -> String {
        if account.account_id.is_empty() {
            account.account_id = format!("qm:{}", uuid::Uuid::new_v4());
        }
        let id = account.account_id.clone();
        self.lock().customers.push(account);
        id
    }

    /// Every customer, in creation order.
    pub fn customers(&self) -> Vec<SimCustomer> {
        self.lock().customers.clone()
    }

    /// Every customer request raised, in creation order.
    pub fn issues(&self) -> Vec<SimIssue> {
        self.lock().issues.clone()
    }

    /// Every JSM API request received, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().requests.clone()
    }

    /// Queues a fault script.
    pub fn push_fault(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// The faults still queued.
    pub fn faults(&self) -> Vec<Fault> {
        self.lock().faults.list()
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Switches the mode where user search omits `emailAddress`.
    pub fn set_hide_emails(&self, hide: bool) {
        self.lock().hide_emails = hide;
    }

    /// Replaces the token bucket (a full bucket), or removes it.
    pub fn set_rate_limit(&self, limit: Option<SimRateLimit>) {
        self.lock().bucket = limit.map(TokenBucket::new);
    }

    /// Sets the latency added to every JSM API response.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Forgets customers, requests and faults, and restores the start settings.
    pub fn reset(&self) {
        let mut inner = self.lock();
        let base_url = std::mem::take(&mut inner.base_url);
        let cloud_id = std::mem::take(&mut inner.cloud_id);
        let installed = std::mem::take(&mut inner.installed);
        let oauth = std::mem::take(&mut inner.oauth);
        let forge = std::mem::take(&mut inner.forge);
        let forge_app_id = inner.forge_app_id.take();
        let next_seq = inner.next_seq;
        *inner = Inner {
            forge,
            forge_app_id,
            next_seq,
            installed,
            oauth,
            hide_emails: self.config.hide_emails,
            latency: self.config.latency,
            bucket: self.config.rate_limit.map(TokenBucket::new),
            base_url,
            cloud_id,
            facts: self.config.facts.clone(),
            ..Inner::default()
        };
    }

    /// Appends a request to the log; returns its sequence number.
    pub(crate) fn log_request(&self, mut entry: LoggedRequest) -> u64 {
        let mut inner = self.lock();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        entry.seq = seq;
        inner.requests.push(entry);
        seq
    }

    /// Records the outcome of a logged request (None = dropped).
    pub(crate) fn log_response(&self, seq: u64, status: Option<u16>) {
        let now = SystemTime::now();
        let mut inner = self.lock();
        // A reset while the request was in flight removed the entry: nothing to record.
        if let Some(entry) = inner.requests.iter_mut().find(|r| r.seq == seq) {
            entry.status = status;
            entry.dropped = status.is_none();
            entry.responded_at = Some(now);
            entry.responded_at_ms = Some(unix_ms(now));
        }
    }

    /// The fault for this request, if any, spending one of its uses.
    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<FaultAction> {
        self.lock().faults.take(method, path)
    }

    /// Takes a token; Err(retry_after_secs) when the bucket is empty. Ok carries the
    /// bucket's (size, tokens left) when a bucket is configured.
    pub(crate) fn take_token(&self) -> Result<Option<(u32, u32)>, u64> {
        match self.lock().bucket.as_mut() {
            Some(bucket) => bucket.take().map(|()| Some(bucket.headroom())),
            None => Ok(None),
        }
    }

    /// The Connect apps installed through `/_sim/install`.
    pub(crate) fn installed_apps(&self) -> Vec<SimConnect> {
        self.lock()
            .installed
            .iter()
            .map(|(_, app)| app.clone())
            .collect()
    }

    /// Trust `app` for `client_key`, replacing what that clientKey had (a re-install's new
    /// secret makes the old one useless, as on JSM).
    pub(crate) fn set_installed_app(&self, client_key: &str, app: SimConnect) {
        let mut inner = self.lock();
        inner.installed.retain(|(k, _)| k != client_key);
        inner.installed.push((client_key.to_string(), app));
    }

    /// The shared secret the simulator gave `client_key` at its last install.
    pub(crate) fn installed_secret(&self, client_key: &str) -> Option<String> {
        let inner = self.lock();
        let found = inner.installed.iter().find(|(k, _)| k == client_key);
        found.map(|(_, app)| app.shared_secret.clone())
    }

    pub(crate) fn base_url(&self) -> String {
        self.lock().base_url.clone()
    }

    pub(crate) fn latency(&self) -> Duration {
        self.lock().latency
    }
}
