//! The Forge platform's control routes under `/_sim/forge/` (see `forge`).

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::forge::{ForgeTrigger, forge_jwks, send};
use super::state::SimState;

/// `GET /_sim/forge/jwks.json`.
pub(crate) async fn jwks_route() -> HttpResponse {
    match tokio::task::spawn_blocking(forge_jwks).await {
        Ok(Ok(jwks)) => HttpResponse::Ok().json(jwks),
        Ok(Err(e)) => HttpResponse::InternalServerError().json(json!({"error": e})),
        Err(e) => HttpResponse::InternalServerError().json(json!({"error": e.to_string()})),
    }
}

/// `POST /_sim/forge/trigger`.
pub(crate) async fn trigger_route(state: web::Data<SimState>, body: web::Bytes) -> HttpResponse {
    let cmd = match serde_json::from_slice::<ForgeTrigger>(&body) {
        Ok(cmd) => cmd,
        Err(e) => {
            return HttpResponse::BadRequest()
                .json(json!({"error": format!("invalid trigger: {e}")}));
        }
    };
    match send(&state, &cmd).await {
        Ok(report) => HttpResponse::Ok().json(report),
        Err(e) => HttpResponse::BadGateway().json(json!({"error": e})),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ForgeModes {
    /// 403 until this many seconds after each install; null turns it off.
    #[serde(default, deserialize_with = "present")]
    forbidden_for_secs: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<Option<super::forge_state::ForgeRateLimit>>,
    near_limit: Option<bool>,
    /// Revoke every system token issued so far (JSM then answers 401 to them).
    #[serde(default)]
    revoke_tokens: bool,
}

fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /_sim/forge/config`.
pub(crate) async fn config_route(state: web::Data<SimState>, body: web::Bytes) -> HttpResponse {
    let modes = match serde_json::from_slice::<ForgeModes>(&body) {
        Ok(modes) => modes,
        Err(e) => {
            return HttpResponse::BadRequest()
                .json(json!({"error": format!("invalid Forge modes: {e}")}));
        }
    };
    let mut inner = state.lock();
    if let Some(secs) = modes.forbidden_for_secs {
        inner.forge.forbidden_for = secs.map(Duration::from_secs);
    }
    if let Some(limit) = modes.rate_limit {
        inner.forge.rate_limit = limit;
    }
    if let Some(near) = modes.near_limit {
        inner.forge.near_limit = near;
    }
    if modes.revoke_tokens {
        inner.forge.tokens.clear();
    }
    HttpResponse::NoContent().finish()
}
