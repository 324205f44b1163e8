//! Forge Remote routes (docs/FORGE.md): `/forge/lifecycle` (installed and upgraded events),
//! `/forge/refresh` (the hourly scheduled trigger) and `/forge/uninstall` (preUninstall).
//!
//! Each call is verified completely (FIT, then its jti used once) before anything is written;
//! a failure is 401 `invalid_token` and nothing is stored. A verified call upserts the
//! installation with the system token of `x-forge-oauth-system`, if any, and wakes the worker.
//! No JSM call happens here: Forge allows 5 s and retries what does not answer in time.
//! Neither the FIT nor the system token is ever logged.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tracing::{info, warn};

use super::AppState;
use super::request::read_body;
use crate::auth::bearer_token;
use crate::config::Secret;
use crate::error::ApiError;
use crate::forge::{ForgeEvent, VerifiedFit, read_event, system_token_exp};
use crate::store::ForgeCall;

/// Reading and verifying stay inside Forge's 5 s budget.
const BUDGET: Duration = Duration::from_secs(4);
/// The header that carries the app system token.
pub const SYSTEM_TOKEN_HEADER: &str = "x-forge-oauth-system";
const MAX_TOKEN: usize = 16 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Lifecycle,
    Refresh,
    Uninstall,
}

pub async fn lifecycle(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    handle(req, body, state, Route::Lifecycle).await
}

pub async fn refresh(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    handle(req, body, state, Route::Refresh).await
}

pub async fn uninstall(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    handle(req, body, state, Route::Uninstall).await
}

async fn handle(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    route: Route,
) -> Result<HttpResponse, ApiError> {
    let Some(verifier) = state.forge.as_ref() else {
        return Err(ApiError::NotFound("Forge Remote is not configured".into()));
    };
    let work = async {
        let body = read_body(&req, body, state.config.server.max_body_bytes).await?;
        let fit = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| {
                ApiError::InvalidToken("an Authorization header `Bearer <FIT>` is required".into())
            })?;
        let verified = verifier
            .verify(fit)
            .await
            .map_err(|e| ApiError::InvalidToken(e.0))?;
        Ok::<_, ApiError>((verified, body))
    };
    let (verified, body) = tokio::time::timeout(BUDGET, work)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::RequestTimeout(
                "the Forge call took too long".into(),
            ))
        })?;
    if !state.store.use_token_once(&verified.jti).await? {
        return Err(ApiError::InvalidToken(
            "this FIT has been used already".into(),
        ));
    }
    let event = match route {
        Route::Lifecycle => read_event(&body),
        Route::Refresh | Route::Uninstall => ForgeEvent::Other(None),
    };
    let token = system_token(&req);
    let has_token = token.is_some();
    let installation_id = verified.installation_id.clone();
    let call = call(verified, token, event == ForgeEvent::Installed);
    state.store.record_forge_call(&call).await?;
    if route == Route::Uninstall {
        state.store.uninstall_forge(&installation_id).await?;
    }
    match (&route, &event) {
        (Route::Lifecycle, ForgeEvent::Other(kind)) => {
            info!(installation = %installation_id, event = ?kind, "Forge event of a type the bridge does not use")
        }
        (Route::Lifecycle, _) => {
            info!(installation = %installation_id, event = ?event, has_token, "Forge app lifecycle")
        }
        (Route::Refresh, _) => {
            info!(installation = %installation_id, has_token, "Forge scheduled trigger")
        }
        (Route::Uninstall, _) => info!(installation = %installation_id, "Forge app uninstalled"),
    }
    if has_token && route != Route::Uninstall {
        state.engine.work_due().await;
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ok"})))
}

/// The system token and its exp, when the call carries a usable one.
fn system_token(req: &HttpRequest) -> Option<(Secret, i64)> {
    let raw = req
        .headers()
        .get(SYSTEM_TOKEN_HEADER)?
        .to_str()
        .ok()?
        .trim();
    if raw.is_empty() || raw.len() > MAX_TOKEN {
        warn!("a Forge call carried an unusable system token header; ignored");
        return None;
    }
    match system_token_exp(raw) {
        Some(exp) => Some((Secret::new(raw), exp)),
        None => {
            warn!("a Forge system token without a readable exp; ignored");
            None
        }
    }
}

fn call(fit: VerifiedFit, token: Option<(Secret, i64)>, installs: bool) -> ForgeCall {
    ForgeCall {
        installation_id: fit.installation_id,
        app_id: fit.app_id,
        environment_type: fit.environment_type,
        environment_id: fit.environment_id,
        api_base_url: fit.api_base_url,
        cloud_id: fit.cloud_id,
        site_url: fit.site_url,
        token,
        installs,
    }
}
