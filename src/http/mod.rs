//! The HTTP API (docs/API.md): routes, shared state and the problem+json fallbacks.

mod admission;
mod connect;
mod email_policy;
mod finished;
mod forge;
mod in_progress;
pub mod middleware;
pub mod openapi;
mod openapi_forge;
mod ops;
mod request;
mod routes;
mod signup;
mod signups;
mod webhook;

use std::sync::Arc;

use actix_web::HttpResponse;

pub use admission::Admission;
pub use finished::FinishedSignups;
pub use in_progress::InProgress;
pub use routes::{RouteSpec, routes, table};

use crate::auth::{FailureLimits, RateLimits, TokenVerifier};
use crate::config::Config;
use crate::connect::ConnectState;
use crate::delivery::{Engine, TenantDirectory};
use crate::error::ApiError;
use crate::store::Store;

/// Everything a handler needs.
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub verifier: TokenVerifier,
    /// Per-source `rate_limit`s, checked right after authentication.
    pub rate_limits: RateLimits,
    /// Failed verifications per client address on a source's own route.
    pub failures: FailureLimits,
    pub directory: Arc<TenantDirectory>,
    pub engine: Arc<Engine>,
    pub in_progress: InProgress,
    /// Finished signups, so their replays need no database read.
    pub finished: FinishedSignups,
    /// The bounds on intake in flight and inline waiters (SPEC §21).
    pub admission: Arc<Admission>,
    /// Renders `/metrics` (None when another recorder was installed first).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The path of `server.public_url` ("" at the root): token qsh is computed relative to it.
    pub public_base_path: String,
    /// Descriptor, install keys and the app's public URL for the lifecycle routes.
    pub connect: Arc<ConnectState>,
    /// Verifies Forge Invocation Tokens; None while `forge.app_id` is empty.
    pub forge: Option<Arc<crate::forge::FitVerifier>>,
}

impl AppState {
    /// Spend one request of the source's `rate_limit` (after its credentials verified, so a
    /// forged request never spends another source's budget); 429 when it is spent.
    pub fn spend_rate_limit(&self, source_id: &str) -> Result<(), ApiError> {
        self.rate_limits
            .check(source_id)
            .map_err(|l| ApiError::RateLimited {
                retry_after_secs: l.retry_after_secs,
            })
    }
}

/// Unknown routes: 404 problem+json.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such route".into()))
}

async fn method_not_allowed(allow: String) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow })
}
