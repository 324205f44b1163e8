//! The HTTP API (SPEC §3): routes, shared state and the problem+json fallbacks.

mod connect;
mod in_progress;
pub mod middleware;
mod ops;
mod request;
mod signup;
mod signups;

use std::sync::Arc;

use actix_web::{HttpResponse, web};

pub use in_progress::InProgress;

use crate::auth::{RateLimits, TokenVerifier};
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
    pub directory: Arc<TenantDirectory>,
    pub engine: Arc<Engine>,
    pub in_progress: InProgress,
    /// Renders `/metrics` (None when another recorder was installed first).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The path of `server.public_url` ("" at the root): token qsh is computed relative to it.
    pub public_base_path: String,
    /// Descriptor, install keys and the app's public URL for the lifecycle routes.
    pub connect: Arc<ConnectState>,
}

/// Register every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/webhooks/signup")
            .route(web::post().to(signup::receive))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/signups/{id}")
            .route(web::get().to(signups::show))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/atlassian-connect.json")
            .route(web::get().to(connect::descriptor))
            .default_service(web::to(method_not_allowed)),
    )
    .service(lifecycle(
        crate::connect::descriptor::INSTALLED,
        connect::installed,
    ))
    .service(lifecycle(
        crate::connect::descriptor::UNINSTALLED,
        connect::uninstalled,
    ))
    .service(lifecycle(
        crate::connect::descriptor::ENABLED,
        connect::enabled,
    ))
    .service(lifecycle(
        crate::connect::descriptor::DISABLED,
        connect::disabled,
    ))
    .service(
        web::resource("/healthz")
            .route(web::get().to(ops::healthz))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/metrics")
            .route(web::get().to(ops::metrics))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/readyz")
            .route(web::get().to(ops::readyz))
            .default_service(web::to(method_not_allowed)),
    );
}

fn lifecycle<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(web::to(method_not_allowed))
}

/// Unknown routes: 404 problem+json.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such route".into()))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}
