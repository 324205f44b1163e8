//! Bulk retry of failed signups by tenant, source and failed-since: the preview counts what it
//! would re-queue; the confirming POST re-queues through the function `signups retry --failed`
//! uses, and the audit log records every id.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Refusal;
use super::guard::check_post;
use super::render::{Chrome, Message, html};
use super::session::{Operator, state_of};
use super::time;
use crate::store::{AuditAction, FailedFilter};

#[derive(Debug, Default, Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    pub tenant: String,
    #[serde(default)]
    pub source: String,
    /// Failed at or after (UTC, `datetime-local` or RFC 3339).
    #[serde(default)]
    pub since: String,
    #[serde(default)]
    pub csrf: String,
}

impl BulkForm {
    fn filter(&self) -> FailedFilter {
        let blank = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        FailedFilter {
            tenant: blank(&self.tenant),
            source: blank(&self.source),
            since: time::parse(&self.since),
        }
    }

    /// The filters in words, for the page and the audit log.
    fn describe(&self) -> String {
        let f = self.filter();
        format!(
            "tenant={} source={} since={}",
            f.tenant.as_deref().unwrap_or("any"),
            f.source.as_deref().unwrap_or("any"),
            f.since.map_or_else(|| "any".into(), time::show),
        )
    }
}

#[derive(Template)]
#[template(path = "console/bulk.html")]
struct BulkPage {
    chrome: Chrome,
    form: BulkForm,
    /// How many the filter matches now, once a preview was asked for.
    count: Option<i64>,
    described: String,
}

/// GET /console/bulk-retry[?tenant&source&since&preview]: the form, and the count it would
/// re-queue.
pub async fn preview(
    req: HttpRequest,
    operator: Operator,
    query: web::Query<BulkForm>,
) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    let form = query.into_inner();
    let asked = !req.query_string().is_empty();
    let count = match asked {
        true => Some(state.store.count_failed(&form.filter()).await?),
        false => None,
    };
    let page = BulkPage {
        chrome: Chrome::page("Bulk retry", "bulk", &operator),
        described: form.describe(),
        form,
        count,
    };
    html(StatusCode::OK, &page)
}

/// POST /console/bulk-retry: re-queue what the filter matches now.
pub async fn confirm(
    req: HttpRequest,
    operator: Operator,
    form: web::Form<BulkForm>,
) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    check_post(&req, &state, &operator, &form.csrf)?;
    let ids = state
        .store
        .retry_failed_matching(&form.filter(), state.config.delivery.max_attempts)
        .await?;
    let described = form.describe();
    state
        .store
        .audit(
            &operator.who,
            AuditAction::BulkRetry,
            &ids,
            Some(&described),
        )
        .await?;
    state.engine.wake();
    let page = Message {
        chrome: Chrome::page("Bulk retry", "bulk", &operator),
        heading: format!("Re-queued {} failed signup(s)", ids.len()),
        text: format!("Filters: {described}. The worker picks them up within a second or two."),
        next: (
            "/console/signups?status=pending".into(),
            "See pending signups".into(),
        ),
    };
    html(StatusCode::OK, &page)
}
