//! Installations (Connect and Forge: state, site, token expiry — never a secret or token) and
//! sources (scheme, tenant, last accepted signup, rejections in the last hour by code).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::render::{Chrome, html};
use super::session::{Operator, state_of};
use super::time::{relative, show};
use super::{Refusal, rejections};
use crate::config::redact_url;

pub struct InstallationRow {
    pub id: String,
    pub kind: &'static str,
    pub state: String,
    pub site: String,
    pub token_expiry: String,
}

#[derive(Template)]
#[template(path = "console/installations.html")]
struct InstallationsPage {
    chrome: Chrome,
    rows: Vec<InstallationRow>,
}

pub async fn page(req: HttpRequest, operator: Operator) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    let mut rows: Vec<InstallationRow> = state
        .store
        .list_installations()
        .await?
        .into_iter()
        .map(|i| InstallationRow {
            id: i.client_key,
            kind: "Connect",
            state: i.state,
            site: redact_url(&i.base_url).into_owned(),
            token_expiry: "— (signed per call with the shared secret)".into(),
        })
        .collect();
    for i in state.store.list_forge_installations().await? {
        rows.push(InstallationRow {
            id: i.installation_id,
            kind: "Forge",
            state: i.state,
            site: i
                .site_url
                .as_deref()
                .map_or_else(|| "unknown yet".into(), |u| redact_url(u).into_owned()),
            token_expiry: i.token_expires_at.map_or_else(
                || "no token yet".into(),
                |t| format!("{} ({})", show(t), relative(t)),
            ),
        });
    }
    let page = InstallationsPage {
        chrome: Chrome::page("Installations", "installations", &operator),
        rows,
    };
    html(StatusCode::OK, &page)
}

pub struct SourceRow {
    pub id: String,
    pub scheme: &'static str,
    pub tenant: String,
    pub last_accepted: String,
    /// `code ×n` for each code seen in the last hour.
    pub rejections: Vec<(&'static str, u64)>,
}

#[derive(Template)]
#[template(path = "console/sources.html")]
struct SourcesPage {
    chrome: Chrome,
    rows: Vec<SourceRow>,
}

pub async fn sources(req: HttpRequest, operator: Operator) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    let last = state.store.last_accepted_by_source().await?;
    let mut rows: Vec<SourceRow> = state
        .config
        .sources
        .iter()
        .map(|s| SourceRow {
            id: s.id.clone(),
            scheme: s.verify.as_str(),
            tenant: s.tenant.clone(),
            last_accepted: last.iter().find(|(id, _)| *id == s.id).map_or_else(
                || "never".into(),
                |(_, t)| format!("{} ({})", show(*t), relative(*t)),
            ),
            rejections: rejections().last_hour(&s.id),
        })
        .collect();
    let unknown = rejections().last_hour("unknown");
    if !unknown.is_empty() {
        rows.push(SourceRow {
            id: "unknown".into(),
            scheme: "-",
            tenant: "-".into(),
            last_accepted: "-".into(),
            rejections: unknown,
        });
    }
    let page = SourcesPage {
        chrome: Chrome::page("Sources", "sources", &operator),
        rows,
    };
    html(StatusCode::OK, &page)
}
