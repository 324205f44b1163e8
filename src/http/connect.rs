//! Connect routes: the descriptor and the four lifecycle callbacks (SPEC §3 Connect, §5).
//!
//! Each callback is verified completely (token, then body) before anything is written; a
//! failure is 401 `invalid_token` (400 `invalid_payload` for a verified body that is not a
//! usable installation) and nothing is stored. No network call happens inside a write.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tracing::info;

use super::AppState;
use super::request::{public_path, read_body};
use crate::auth::{RequestTarget, bearer_token};
use crate::config::Secret;
use crate::config::validate::check_https_or_loopback;
use crate::connect::lifecycle::{verify_shared_secret, verify_signed_install};
use crate::error::{ApiError, FieldError};
use crate::store::{InstallationState, NewInstallation};

const MAX_CLIENT_KEY: usize = 255;
const MAX_SECRET: usize = 8192;
const MAX_URL: usize = 2048;

/// The lifecycle payload fields the bridge reads; the rest are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    key: Option<String>,
    client_key: Option<String>,
    shared_secret: Option<Secret>,
    base_url: Option<String>,
    display_url: Option<String>,
    product_type: Option<String>,
    description: Option<String>,
}

pub async fn descriptor(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.connect.descriptor.clone())
}

pub async fn installed(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (payload, client_key) = signed_install(&req, body, &state).await?;
    let new = installation(&state, payload, client_key)?;
    state.store.save_installation(&new).await?;
    info!(client_key = %new.client_key, base_url = %crate::config::redact_url(&new.base_url), "Connect app installed");
    Ok(HttpResponse::NoContent().finish())
}

pub async fn uninstalled(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, client_key) = signed_install(&req, body, &state).await?;
    let known = state.store.uninstall_installation(&client_key).await?;
    info!(client_key = %client_key, known, "Connect app uninstalled");
    Ok(HttpResponse::NoContent().finish())
}

pub async fn enabled(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    switch(req, body, state, true).await
}

pub async fn disabled(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    switch(req, body, state, false).await
}

/// `enabled`/`disabled`: HS256 with the stored secret. An uninstalled installation has no
/// secret any more, so its callbacks are 401 and change nothing; the UPDATE also refuses to
/// touch an uninstalled row, for an uninstall that commits between verification and write.
async fn switch(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    enable: bool,
) -> Result<HttpResponse, ApiError> {
    let (_, client_key) = read_payload(&req, body, &state).await?;
    let installation = state
        .store
        .installation(&client_key)
        .await?
        .filter(|i| i.state != InstallationState::Uninstalled);
    let secret = installation
        .and_then(|i| i.shared_secret)
        .ok_or_else(|| ApiError::InvalidToken("no installation with this clientKey".into()))?;
    let token = token(&req)?;
    with_target(&req, &state, |target| {
        verify_shared_secret(token, &client_key, &secret, state.connect.leeway, target)
    })?;
    let changed = state
        .store
        .set_installation_enabled(&client_key, enable)
        .await?;
    info!(client_key = %client_key, enabled = enable, changed, "Connect app lifecycle");
    Ok(HttpResponse::NoContent().finish())
}

/// Read the body and verify a signed-install token for its clientKey.
async fn signed_install(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
) -> Result<(Payload, String), ApiError> {
    let (payload, client_key) = read_payload(req, body, state).await?;
    let token = token(req)?;
    let path = public_path(req, state);
    let target = RequestTarget {
        method: req.method().as_str(),
        path,
        query: req.uri().query().unwrap_or_default(),
    };
    let connect = &state.connect;
    verify_signed_install(
        &connect.install_keys,
        token,
        &client_key,
        &connect.public_url,
        connect.leeway,
        &target,
    )
    .await
    .map_err(|e| ApiError::InvalidToken(e.0))?;
    Ok((payload, client_key))
}

/// The payload and its clientKey; without one, no token can be checked against it.
async fn read_payload(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
) -> Result<(Payload, String), ApiError> {
    let body = read_body(req, body, state.config.server.max_body_bytes).await?;
    let payload: Payload = serde_json::from_slice(&body).map_err(|_| {
        ApiError::InvalidToken("the callback body is not a Connect lifecycle payload".into())
    })?;
    let client_key = payload
        .client_key
        .clone()
        .filter(|k| !k.trim().is_empty() && k.len() <= MAX_CLIENT_KEY)
        .ok_or_else(|| {
            ApiError::InvalidToken("the callback body has no usable clientKey".into())
        })?;
    Ok((payload, client_key))
}

fn token(req: &HttpRequest) -> Result<&str, ApiError> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .ok_or_else(|| {
            ApiError::InvalidToken("an Authorization header `JWT <token>` is required".into())
        })
}

fn with_target<T>(
    req: &HttpRequest,
    state: &AppState,
    verify: impl FnOnce(&RequestTarget<'_>) -> Result<T, crate::connect::LifecycleError>,
) -> Result<T, ApiError> {
    let target = RequestTarget {
        method: req.method().as_str(),
        path: public_path(req, state),
        query: req.uri().query().unwrap_or_default(),
    };
    verify(&target).map_err(|e| ApiError::InvalidToken(e.0))
}

/// A verified `installed` payload as an installation, or 400 naming the field.
fn installation(
    state: &AppState,
    payload: Payload,
    client_key: String,
) -> Result<NewInstallation, ApiError> {
    let invalid = |field: &str, message: &str| {
        ApiError::InvalidPayload(vec![FieldError::new(field, message)])
    };
    if let Some(key) = &payload.key
        && key != &state.config.connect.app_key
    {
        return Err(invalid("key", "is not this app's key"));
    }
    let shared_secret = payload
        .shared_secret
        .filter(|s| s.expose().len() <= MAX_SECRET)
        .ok_or_else(|| invalid("sharedSecret", "is required (at most 8192 bytes)"))?;
    let base_url = payload
        .base_url
        .filter(|u| u.len() <= MAX_URL)
        .ok_or_else(|| invalid("baseUrl", "is required"))?;
    check_https_or_loopback(&base_url).map_err(|e| invalid("baseUrl", &e))?;
    Ok(NewInstallation {
        client_key,
        shared_secret,
        base_url: base_url.trim_end_matches('/').to_string(),
        display_url: payload.display_url,
        product_type: payload.product_type,
        description: payload.description,
    })
}
