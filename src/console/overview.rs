//! The overview: counts by status (all and last 24 h), the oldest pending signup, each
//! tenant's state, and the chart of the last 24 hours.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::chart::{self, Chart};
use super::render::{Chrome, html};
use super::session::{Operator, state_of};
use super::time::{relative, show};
use super::{ConsoleState, Refusal};
use crate::delivery::forge_wait_reason;
use crate::domain::now_ms;
use crate::store::TenantActivity;

const DAY_MS: i64 = 24 * 3_600_000;

pub struct CountRow {
    pub status: &'static str,
    pub total: i64,
    pub day: i64,
}

/// One tenant's line.
pub struct TenantRow {
    pub id: String,
    /// `configured`, `Connect`, `Forge` or `unknown`.
    pub kind: &'static str,
    pub state: String,
    /// `ok`, `paused`, `waiting` or `failing` (the stylesheet marks them).
    pub class: &'static str,
    pub pending: i64,
    pub failed: i64,
    pub in_flight: usize,
    pub last_success: String,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    counts: Vec<CountRow>,
    oldest_pending: Option<String>,
    tenants: Vec<TenantRow>,
    chart: Chart,
    width: i64,
    height: i64,
}

pub async fn page(req: HttpRequest, operator: Operator) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    let now = now_ms();
    let total = state.store.status_counts(None).await?;
    let day = state.store.status_counts(Some(now - DAY_MS)).await?;
    let of = |rows: &[(String, i64)], s: &str| rows.iter().find(|r| r.0 == s).map_or(0, |r| r.1);
    let counts = ["pending", "created", "existing", "failed"]
        .into_iter()
        .map(|status| CountRow {
            status,
            total: of(&total, status),
            day: of(&day, status),
        })
        .collect();
    let oldest_pending = state
        .store
        .oldest_pending()
        .await?
        .map(|t| format!("{} (since {})", relative(t), show(t)));
    let hourly = state.store.hourly_outcomes(now - DAY_MS).await?;
    let page = OverviewPage {
        chrome: Chrome::page("Overview", "overview", &operator),
        counts,
        oldest_pending,
        tenants: tenants(&state, now).await?,
        chart: chart::build(&hourly),
        width: chart::WIDTH,
        height: chart::HEIGHT,
    };
    html(StatusCode::OK, &page)
}

/// Every tenant the bridge knows (configured, installed, or with signups), with its state.
async fn tenants(state: &ConsoleState, now: i64) -> Result<Vec<TenantRow>, Refusal> {
    let mut kinds: BTreeMap<String, (&'static str, Option<String>)> = BTreeMap::new();
    for t in &state.config.tenants {
        kinds.insert(t.id.clone(), ("configured", None));
    }
    for i in state.store.list_installations().await? {
        let note =
            (i.state != "installed").then(|| format!("Connect app {}: signups wait", i.state));
        kinds.insert(i.client_key, ("Connect", note));
    }
    for i in state.store.list_forge_installations().await? {
        let note = match state.store.forge_installation(&i.installation_id).await? {
            Some(full) => forge_wait_reason(&full, now)
                .map(|r| format!("waiting for Forge credentials: {}", r.explain())),
            None => None,
        };
        kinds.insert(i.installation_id, ("Forge", note));
    }
    let mut activity: BTreeMap<String, TenantActivity> = state
        .store
        .tenant_activity()
        .await?
        .into_iter()
        .map(|a| (a.tenant.clone(), a))
        .collect();
    for tenant in activity.keys() {
        kinds.entry(tenant.clone()).or_insert(("unknown", None));
    }
    let concurrency = state.config.delivery.concurrency_per_tenant.max(1) as usize;
    Ok(kinds
        .into_iter()
        .map(|(id, (kind, note))| {
            let a = activity.remove(&id).unwrap_or_default();
            let (state_text, class) = tenant_state(&a, note, now);
            let free = state.engine.gate(&id).free_runs();
            TenantRow {
                kind,
                state: state_text,
                class,
                pending: a.pending,
                failed: a.failed,
                in_flight: concurrency.saturating_sub(free),
                last_success: a.last_success.map_or_else(
                    || "never".into(),
                    |t| format!("{} ({})", relative(t), show(t)),
                ),
                id,
            }
        })
        .collect())
}

/// Delivering, paused by a 429 until T (and why), waiting (installation), or failing with a
/// category.
fn tenant_state(a: &TenantActivity, note: Option<String>, now: i64) -> (String, &'static str) {
    if let Some(until) = a.hold_until.filter(|u| *u > now) {
        return (
            format!(
                "paused until {} ({}): JSM answered 429 Too Many Requests",
                show(until),
                relative(until)
            ),
            "paused",
        );
    }
    if let Some(note) = note {
        return (note, "waiting");
    }
    match (&a.latest_error, a.pending) {
        (Some(error), pending) if pending > 0 => {
            let category = error.split(':').next().unwrap_or("unknown");
            (format!("failing with {category}: retrying"), "failing")
        }
        _ if a.pending > 0 => ("delivering".into(), "ok"),
        _ => ("idle".into(), "ok"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_state_names_pause_wait_and_failure() {
        let now = 1_000_000;
        let paused = TenantActivity {
            hold_until: Some(now + 5_000),
            pending: 1,
            ..Default::default()
        };
        assert_eq!(tenant_state(&paused, None, now).1, "paused");
        let past_hold = TenantActivity {
            hold_until: Some(now - 5_000),
            pending: 2,
            latest_error: Some("jsm_unavailable: JSM answered 503".into()),
            ..Default::default()
        };
        assert_eq!(
            tenant_state(&past_hold, None, now),
            ("failing with jsm_unavailable: retrying".into(), "failing")
        );
        assert_eq!(
            tenant_state(&past_hold, Some("waiting".into()), now).1,
            "waiting"
        );
        assert_eq!(
            tenant_state(&TenantActivity::default(), None, now).0,
            "idle"
        );
    }
}
