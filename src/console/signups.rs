//! The signup list: filters (status, source, tenant, created between), exact email search,
//! 50 a page newest first with keyset pagination (a cursor of the last row, never OFFSET),
//! emails masked.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Refusal;
use super::render::{Chrome, html};
use super::session::{Operator, state_of};
use super::time::{self, show};
use crate::domain::{SignupStatus, mask_email};
use crate::store::{ConsoleFilter, SignupRow};

pub const PAGE: u32 = 50;

/// The list's query string (every field optional; blank is unset).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub tenant: String,
    #[serde(default)]
    pub since: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub email: String,
    /// `<created_at>.<id>` of the last row of the previous page.
    #[serde(default)]
    pub before: String,
}

pub struct Line {
    pub id: String,
    pub status: &'static str,
    pub tenant: String,
    pub source: String,
    pub email: String,
    pub attempts: i64,
    pub last_error: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "console/signups.html")]
struct ListPage {
    chrome: Chrome,
    q: ListQuery,
    statuses: Vec<(&'static str, bool)>,
    lines: Vec<Line>,
    /// The query string of the next page, when there is one.
    next: Option<String>,
}

pub async fn list(
    req: HttpRequest,
    operator: Operator,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    let q = query.into_inner();
    let blank = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let rows = match blank(&q.email) {
        Some(email) => state.store.signups_by_email(&email, PAGE).await?,
        None => {
            let filter = ConsoleFilter {
                status: SignupStatus::parse(q.status.trim()),
                source: blank(&q.source),
                tenant: blank(&q.tenant),
                since: time::parse(&q.since),
                until: time::parse(&q.until),
            };
            let cursor = q
                .before
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse().ok()?, id.to_string())));
            state
                .store
                .console_signups(&filter, cursor, PAGE + 1)
                .await?
        }
    };
    let next = (rows.len() > PAGE as usize && q.email.trim().is_empty())
        .then(|| rows.get(PAGE as usize - 1))
        .flatten()
        .map(|last| next_query(&q, last));
    let statuses = ["pending", "created", "existing", "failed"]
        .into_iter()
        .map(|s| (s, q.status.trim() == s))
        .collect();
    let lines = rows.iter().take(PAGE as usize).map(line).collect();
    let page = ListPage {
        chrome: Chrome::page("Signups", "signups", &operator),
        q,
        statuses,
        lines,
        next,
    };
    html(StatusCode::OK, &page)
}

fn line(r: &SignupRow) -> Line {
    Line {
        id: r.id.clone(),
        status: r.status.as_str(),
        tenant: r.tenant.clone(),
        source: r.source_id.clone(),
        email: mask_email(&r.email),
        attempts: r.attempts,
        last_error: r.last_error.clone().unwrap_or_default(),
        created: show(r.created_at),
    }
}

/// The same filters, after `last`.
fn next_query(q: &ListQuery, last: &SignupRow) -> String {
    serde_urlencoded::to_string([
        ("status", q.status.as_str()),
        ("source", q.source.as_str()),
        ("tenant", q.tenant.as_str()),
        ("since", q.since.as_str()),
        ("until", q.until.as_str()),
        ("before", &format!("{}.{}", last.created_at, last.id)),
    ])
    .unwrap_or_default()
}
