//! The control API under `/_sim/` (outside the context path, never faulted or logged).
//!
//! - `GET /_sim/customers`, `GET /_sim/requests`, `GET /_sim/faults`
//! - `POST /_sim/faults` with a fault or `{"faults": [...]}`, `DELETE /_sim/faults`
//! - `POST /_sim/config` with any of `hideEmails`, `latencyMs`, `rateLimit` (object or null)
//! - `POST /_sim/install` with `{"bridgeUrl", "clientKey"?, "sharedSecret"?, "event"?}`: send
//!   a bridge a Connect lifecycle callback as Jira would (see `installer`)
//! - `GET /_sim/forge/jwks.json`, `POST /_sim/forge/trigger`, `POST /_sim/forge/config`: the
//!   simulator as the Forge platform (see `forge`)
//! - `POST /_sim/reset`
//! - `POST /_sim/oauth/token`, `POST /_sim/oauth/revoke`, `GET /_sim/oauth` (see `oauth`)
//! - `GET /_sim/health`

use super::config::SimRateLimit;
use super::faults::Fault;
use super::state::SimState;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Deserializer};
use serde_json::json;
use std::time::Duration;

/// Registers the control routes.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::oauth::routes(web::scope("/_sim"))
            .route(
                "/health",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .route("/customers", web::get().to(customers))
            .route("/requests", web::get().to(requests))
            .route("/faults", web::get().to(list_faults))
            .route("/faults", web::post().to(push_faults))
            .route("/faults", web::delete().to(clear_faults))
            .route("/config", web::post().to(set_config))
            .route("/reset", web::post().to(reset))
            .route("/install", web::post().to(super::installer::install_route))
            .route(
                "/forge/jwks.json",
                web::get().to(super::forge_control::jwks_route),
            )
            .route(
                "/forge/trigger",
                web::post().to(super::forge_control::trigger_route),
            )
            .route(
                "/forge/config",
                web::post().to(super::forge_control::config_route),
            )
            .default_service(web::to(|| async {
                HttpResponse::NotFound().json(json!({"error": "unknown control route"}))
            })),
    );
}

async fn customers(state: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(state.customers())
}

async fn requests(state: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(state.requests())
}

async fn list_faults(state: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(state.faults())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FaultsBody {
    Many { faults: Vec<Fault> },
    One(Fault),
}

fn bad_request(what: &str, err: serde_json::Error) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": format!("{what}: {err}")}))
}

async fn push_faults(state: web::Data<SimState>, body: web::Bytes) -> HttpResponse {
    let faults = match serde_json::from_slice::<FaultsBody>(&body) {
        Ok(FaultsBody::Many { faults }) => faults,
        Ok(FaultsBody::One(fault)) => vec![fault],
        Err(err) => return bad_request("expected a fault or {\"faults\": [...]}", err),
    };
    for fault in faults {
        state.push_fault(fault);
    }
    HttpResponse::NoContent().finish()
}

async fn clear_faults(state: web::Data<SimState>) -> HttpResponse {
    state.clear_faults();
    HttpResponse::NoContent().finish()
}

/// Absent → None (unchanged); null → Some(None) (removed); value → Some(Some(v)).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConfigPatch {
    hide_emails: Option<bool>,
    latency_ms: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<Option<SimRateLimit>>,
}

async fn set_config(state: web::Data<SimState>, body: web::Bytes) -> HttpResponse {
    let patch = match serde_json::from_slice::<ConfigPatch>(&body) {
        Ok(patch) => patch,
        Err(err) => return bad_request("invalid config patch", err),
    };
    if let Some(hide) = patch.hide_emails {
        state.set_hide_emails(hide);
    }
    if let Some(ms) = patch.latency_ms {
        state.set_latency(Duration::from_millis(ms));
    }
    if let Some(limit) = patch.rate_limit {
        state.set_rate_limit(limit);
    }
    HttpResponse::NoContent().finish()
}

async fn reset(state: web::Data<SimState>) -> HttpResponse {
    state.reset();
    HttpResponse::NoContent().finish()
}
