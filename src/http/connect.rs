//! Connect routes: the descriptor and the four lifecycle callbacks (docs/API.md, Connect routes).
//!
//! Each callback is verified completely (token, then body) before anything is written; a
//! failure is 401 `invalid_token` (400 `invalid_payload` for a verified body that is not a
//! usable installation) and nothing is stored. An install body must name this app's `key`,
//! an installation's `baseUrl` must be on `connect.allowed_base_hosts`, and an install token
//! is accepted once. A client address whose install-key fetch budget is spent is answered
//! 503 `install_keys_busy` with `Retry-After`. Reading and verifying are bounded by
//! `server.request_timeout` (408). No network call happens inside a write.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rand::distr::{Alphanumeric, SampleString};
use serde::Deserialize;
use tracing::{debug, info};

use super::AppState;
use super::request::{bounded, public_path, read_body};
use crate::auth::{RequestTarget, bearer_token};
use crate::config::Secret;
use crate::config::base_hosts::is_allowed;
use crate::config::validate::check_https_or_loopback;
use crate::connect::InstallRefusal;
use crate::connect::lifecycle::{verify_shared_secret, verify_signed_install};
use crate::error::{ApiError, FieldError};
use crate::store::{InstallationState, NewInstallation, TokenUse};

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
    let (payload, client_key, used) = bounded(&state, signed_install(&req, body, &state)).await?;
    let new = installation(&state, payload, client_key)?;
    use_once(&state, &used).await?;
    state.store.save_installation(&new).await?;
    info!(client_key = %new.client_key, base_url = %crate::config::redact_url(&new.base_url), "Connect app installed");
    Ok(HttpResponse::NoContent().finish())
}

pub async fn uninstalled(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, client_key, used) = bounded(&state, signed_install(&req, body, &state)).await?;
    use_once(&state, &used).await?;
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

/// Record the install token's use; a second use before it expires is 401.
async fn use_once(state: &AppState, used: &TokenUse) -> Result<(), ApiError> {
    match state.store.use_token_once(used).await? {
        true => Ok(()),
        false => Err(ApiError::InvalidToken(
            "this install token has been used already".into(),
        )),
    }
}

/// The one answer to an `enabled`/`disabled` that does not verify, whatever the reason, so it
/// does not tell whether a clientKey is installed.
const SWITCH_REFUSED: &str = "the callback could not be verified";

/// `enabled`/`disabled`: HS256 with the stored secret. An uninstalled installation has no
/// secret any more, so its callbacks are 401 and change nothing; the UPDATE also refuses to
/// touch an uninstalled row, for an uninstall that commits between verification and write.
async fn switch(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    enable: bool,
) -> Result<HttpResponse, ApiError> {
    let client_key = bounded(&state, verify_switch(&req, body, &state))
        .await
        .map_err(|e| match e {
            ApiError::InvalidToken(reason) => {
                debug!(reason = %reason, "enabled/disabled callback refused");
                ApiError::InvalidToken(SWITCH_REFUSED.into())
            }
            other => other,
        })?;
    let changed = state
        .store
        .set_installation_enabled(&client_key, enable)
        .await?;
    info!(client_key = %client_key, enabled = enable, changed, "Connect app lifecycle");
    Ok(HttpResponse::NoContent().finish())
}

/// The verified clientKey of an `enabled`/`disabled` callback.
async fn verify_switch(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
) -> Result<String, ApiError> {
    let (_, client_key) = read_payload(req, body, state).await?;
    let secret = state
        .store
        .installation(&client_key)
        .await?
        .filter(|i| i.state != InstallationState::Uninstalled)
        .and_then(|i| i.shared_secret);
    let known = secret.is_some();
    // An unknown clientKey is still checked, against a throwaway secret, so it takes as long
    // as a wrong signature does.
    let secret =
        secret.unwrap_or_else(|| Secret::new(Alphanumeric.sample_string(&mut rand::rng(), 32)));
    let token = token(req)?;
    with_target(req, state, |target| {
        verify_shared_secret(token, &client_key, &secret, state.connect.leeway, target)
    })?;
    match known {
        true => Ok(client_key),
        false => Err(ApiError::InvalidToken(
            "no installation with this clientKey".into(),
        )),
    }
}

/// Read the body and verify a signed-install token for its clientKey and this app's key.
async fn signed_install(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
) -> Result<(Payload, String, TokenUse), ApiError> {
    let (payload, client_key) = read_payload(req, body, state).await?;
    if payload.key.as_deref() != Some(state.config.connect.app_key.as_str()) {
        return Err(ApiError::InvalidToken(
            "the callback body's key is not this app's key".into(),
        ));
    }
    let token = token(req)?;
    let path = public_path(req, state);
    let target = RequestTarget {
        method: req.method().as_str(),
        path,
        query: req.uri().query().unwrap_or_default(),
    };
    // The TCP peer, not a forwarded header: a client must not pick whose budget it spends.
    let client = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let connect = &state.connect;
    let used = verify_signed_install(
        &connect.install_keys,
        client,
        token,
        &client_key,
        &connect.public_url,
        connect.leeway,
        &target,
    )
    .await
    .map_err(|e| match e {
        InstallRefusal::Invalid(e) => ApiError::InvalidToken(e.0),
        InstallRefusal::KeysBusy(wait) => ApiError::InstallKeysBusy {
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        },
    })?;
    Ok((payload, client_key, used))
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
    let shared_secret = payload
        .shared_secret
        .filter(|s| s.expose().len() <= MAX_SECRET)
        .ok_or_else(|| invalid("sharedSecret", "is required (at most 8192 bytes)"))?;
    let base_url = payload
        .base_url
        .filter(|u| u.len() <= MAX_URL)
        .ok_or_else(|| invalid("baseUrl", "is required"))?;
    let url = check_https_or_loopback(&base_url).map_err(|e| invalid("baseUrl", &e))?;
    // Where the bridge will send signed calls: only to the Jira sites configured as allowed.
    if !is_allowed(&url, &state.config.connect.allowed_base_hosts) {
        return Err(ApiError::InvalidToken(
            "the installation's baseUrl is not on an allowed host".into(),
        ));
    }
    Ok(NewInstallation {
        client_key,
        shared_secret,
        base_url: base_url.trim_end_matches('/').to_string(),
        display_url: payload.display_url,
        product_type: payload.product_type,
        description: payload.description,
    })
}
