//! The control API under `/_sim/` (outside the context path, never faulted or logged).
//!
//! - `GET /_sim/customers`, `GET /_sim/requests`, `GET /_sim/faults`, `GET /_sim/issues` (the
//!   customer requests raised through `POST /rest/servicedeskapi/request`, see `issues`)
//! - `POST /_sim/faults` with a fault or `{"faults": [...]}`, `DELETE /_sim/faults`
//! - `POST /_sim/config` with any of `hideEmails`, `latencyMs`, `rateLimit` (object or null),
//!   and the §17 switches (see `facts`): `language` (`en`|`de`), `serviceDesks` and
//!   `organizations` and `requestTypes` (arrays of existing ids, or null = any id), `permissions` (`{"*" | identity:
//!   {"administer", "userPicker", "deskAdmin"}}`, identities: the basic email, `connect`,
//!   `bearer:<token>`, `oauth:<client_id>`, `forge`; replaces the whole map), `clockSkewSecs`,
//!   `rateLimitReason`, `substringSearch`, `includeInactive`, `oauthAtSite`
//! - `POST /_sim/accounts` with `{"email", "displayName", "accountType"?, "active"?,
//!   "emailVisible"?}`: adds an account (a site user, an inactive or email-hidden one);
//!   `GET /_sim/customers` lists every account with those fields
//! - `GET /_edge/tenant_info` (outside `/_sim/`, like the site's): `{"cloudId"}`
//! - `POST /_sim/install` with `{"bridgeUrl", "clientKey"?, "sharedSecret"?, "event"?}`: send
//!   a bridge a Connect lifecycle callback as Jira would (see `installer`)
//! - `GET /_sim/forge/jwks.json`, `POST /_sim/forge/trigger`, `POST /_sim/forge/config`: the
//!   simulator as the Forge platform (see `forge`)
//! - `POST /_sim/reset`
//! - `POST /_sim/oauth/token`, `POST /_sim/oauth/revoke`, `GET /_sim/oauth` (see `oauth`)
//! - `GET /_sim/health`

use super::config::SimRateLimit;
use super::facts::{SimLanguage, SimPermissions};
use super::faults::Fault;
use super::state::{SimCustomer, SimState};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Deserializer};
use serde_json::json;
use std::collections::BTreeMap;
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
            .route("/accounts", web::post().to(add_account))
            .route("/requests", web::get().to(requests))
            .route("/issues", web::get().to(issues))
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

async fn issues(state: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(state.issues())
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
    language: Option<SimLanguage>,
    #[serde(default, deserialize_with = "present")]
    service_desks: Option<Option<Vec<IdValue>>>,
    #[serde(default, deserialize_with = "present")]
    organizations: Option<Option<Vec<IdValue>>>,
    #[serde(default, deserialize_with = "present")]
    request_types: Option<Option<Vec<IdValue>>>,
    permissions: Option<BTreeMap<String, SimPermissions>>,
    clock_skew_secs: Option<i64>,
    rate_limit_reason: Option<String>,
    substring_search: Option<bool>,
    include_inactive: Option<bool>,
    oauth_at_site: Option<bool>,
}

/// An id given as a string or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdValue {
    Text(String),
    Number(i64),
}

fn ids(list: Option<Vec<IdValue>>) -> Option<Vec<String>> {
    list.map(|ids| {
        ids.into_iter()
            .map(|id| match id {
                IdValue::Text(s) => s,
                IdValue::Number(n) => n.to_string(),
            })
            .collect()
    })
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
    state.update_facts(|facts| {
        if let Some(language) = patch.language {
            facts.language = language;
        }
        if let Some(desks) = patch.service_desks {
            facts.service_desks = ids(desks);
        }
        if let Some(orgs) = patch.organizations {
            facts.organizations = ids(orgs);
        }
        if let Some(types) = patch.request_types {
            facts.request_types = ids(types);
        }
        if let Some(permissions) = patch.permissions {
            facts.permissions = permissions;
        }
        if let Some(skew) = patch.clock_skew_secs {
            facts.clock_skew_secs = skew;
        }
        if let Some(reason) = patch.rate_limit_reason {
            facts.rate_limit_reason = reason;
        }
        if let Some(on) = patch.substring_search {
            facts.substring_search = on;
        }
        if let Some(on) = patch.include_inactive {
            facts.include_inactive = on;
        }
        if let Some(on) = patch.oauth_at_site {
            facts.oauth_at_site = on;
        }
    });
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewAccount {
    email: String,
    display_name: String,
    #[serde(default = "customer")]
    account_type: String,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default = "yes")]
    email_visible: bool,
}

fn customer() -> String {
    "customer".into()
}

fn yes() -> bool {
    true
}

/// `POST /_sim/accounts`: 201 with the account as `GET /_sim/customers` lists it.
async fn add_account(state: web::Data<SimState>, body: web::Bytes) -> HttpResponse {
    let account = match serde_json::from_slice::<NewAccount>(&body) {
        Ok(account) => account,
        Err(err) => return bad_request("invalid account", err),
    };
    if !matches!(
        account.account_type.as_str(),
        "customer" | "atlassian" | "app"
    ) {
        return HttpResponse::BadRequest()
            .json(json!({"error": "accountType is customer, atlassian or app"}));
    }
    let mut customer = SimCustomer {
        account_id: String::new(),
        email_address: account.email,
        display_name: account.display_name,
        active: account.active,
        account_type: account.account_type,
        email_visible: account.email_visible,
        service_desks: Vec::new(),
        organizations: Vec::new(),
    };
    customer.account_id = state.add_account(customer.clone());
    HttpResponse::Created().json(customer)
}

/// `GET /_edge/tenant_info`: published fact (SPEC §17), a site serves its cloudId here.
pub(crate) async fn tenant_info(state: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "cloudId": state.cloud_id() }))
}

async fn reset(state: web::Data<SimState>) -> HttpResponse {
    state.reset();
    HttpResponse::NoContent().finish()
}
