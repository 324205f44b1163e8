//! The audit log page: newest first, 50 a page, keyset pagination.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Refusal;
use super::render::{Chrome, html};
use super::session::{Operator, state_of};
use super::time::show;

const PAGE: u32 = 50;

pub struct Entry {
    pub at: String,
    pub who: String,
    pub action: String,
    pub signups: Vec<String>,
    /// Ids beyond the first few, counted.
    pub more: usize,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<Entry>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    before: String,
}

pub async fn page(
    req: HttpRequest,
    operator: Operator,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    let cursor = query
        .before
        .split_once('.')
        .and_then(|(at, id)| Some((at.parse().ok()?, id.to_string())));
    let rows = state.store.audit_page(cursor, PAGE + 1).await?;
    let next = (rows.len() > PAGE as usize)
        .then(|| rows.get(PAGE as usize - 1))
        .flatten()
        .map(|last| format!("{}.{}", last.at, last.id));
    let entries = rows
        .into_iter()
        .take(PAGE as usize)
        .map(|e| Entry {
            at: show(e.at),
            who: e.who,
            action: e.action,
            more: e.signup_ids.len().saturating_sub(5),
            signups: e.signup_ids.into_iter().take(5).collect(),
            detail: e.detail.unwrap_or_default(),
        })
        .collect();
    let page = AuditPage {
        chrome: Chrome::page("Audit log", "audit", &operator),
        entries,
        next,
    };
    html(StatusCode::OK, &page)
}
