//! Operations endpoints: liveness, readiness and metrics.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use crate::error::ApiError;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.store.ping().await {
        Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
    } else {
        Err(ApiError::NotReady("the database does not answer".into()))
    }
}

/// Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Ok(pending) = state.store.pending_count().await {
        crate::metrics::pending(pending);
    }
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
