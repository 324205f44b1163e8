//! Prometheus metrics (docs/OPERATIONS.md, metrics). Label values are bounded: source and tenant ids come from the
//! configuration or installations, statuses and outcomes from fixed lists; never an email.
//! An installation's clientKey is an identifier Atlassian treats as private to the app, so it
//! is labelled by a short stable hash (`inst-<8 hex>`), never by itself.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const SIGNUPS_TOTAL: &str = "signup_bridge_signups_total";
pub const JSM_REQUESTS_TOTAL: &str = "signup_bridge_jsm_requests_total";
pub const JSM_REQUEST_DURATION: &str = "signup_bridge_jsm_request_duration_seconds";
pub const PENDING_SIGNUPS: &str = "signup_bridge_pending_signups";
pub const TENANTS_WAITING: &str = "signup_bridge_tenants_waiting";
pub const EMAIL_DOMAIN_REFUSALS_TOTAL: &str = "signup_bridge_email_domain_refusals_total";
pub const JSM_NEAR_LIMIT_TOTAL: &str = "signup_bridge_jsm_near_limit_total";
pub const INTAKE_OVERLOADED_TOTAL: &str = "signup_bridge_intake_overloaded_total";
pub const INLINE_WAITS_SKIPPED_TOTAL: &str = "signup_bridge_inline_waits_skipped_total";
pub const INTAKE_IN_FLIGHT: &str = "signup_bridge_intake_in_flight";
pub const INLINE_WAITERS: &str = "signup_bridge_inline_waiters";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the process-wide recorder once; later calls reuse it.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ];
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(JSM_REQUEST_DURATION.into()), &buckets)
                .ok()?
                .install_recorder();
            match recorder {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        SIGNUPS_TOTAL,
        "Intake responses by source and signup status (`rejected` for errors)."
    );
    metrics::describe_counter!(JSM_REQUESTS_TOTAL, "JSM calls by tenant and outcome.");
    metrics::describe_histogram!(
        JSM_REQUEST_DURATION,
        metrics::Unit::Seconds,
        "JSM call latency."
    );
    metrics::describe_gauge!(PENDING_SIGNUPS, "Signups accepted and not yet delivered.");
    metrics::describe_gauge!(
        TENANTS_WAITING,
        "Tenants whose due signups wait for a Forge call (no run spent), by reason."
    );
    metrics::describe_counter!(
        EMAIL_DOMAIN_REFUSALS_TOTAL,
        "Signups refused by a source's email-domain policy, by source and reason \
         (not_allowed, blocked, disposable)."
    );
    metrics::describe_counter!(
        JSM_NEAR_LIMIT_TOTAL,
        "JSM answers carrying X-RateLimit-NearLimit: true, by tenant."
    );
    metrics::describe_counter!(
        INTAKE_OVERLOADED_TOTAL,
        "New signups answered 503 overloaded (server.max_intake_in_flight reached), by source."
    );
    metrics::describe_counter!(
        INLINE_WAITS_SKIPPED_TOTAL,
        "Committed signups answered 202 at once because delivery.max_inline_waiters \
         requests were waiting already, by source."
    );
    metrics::describe_gauge!(
        INTAKE_IN_FLIGHT,
        "New signups being stored by this instance now (bounded by server.max_intake_in_flight)."
    );
    metrics::describe_gauge!(
        INLINE_WAITERS,
        "Requests waiting inline for the worker now (bounded by delivery.max_inline_waiters)."
    );
}

/// One intake response.
pub fn signup_answered(source: &str, status: &str) {
    metrics::counter!(SIGNUPS_TOTAL, "source" => source.to_string(), "status" => status.to_string()).increment(1);
}

/// One new signup answered `503 overloaded`.
pub fn intake_overloaded(source: &str) {
    metrics::counter!(INTAKE_OVERLOADED_TOTAL, "source" => source.to_string()).increment(1);
}

/// One committed signup answered at once because the inline waiters were at their bound.
pub fn inline_wait_skipped(source: &str) {
    metrics::counter!(INLINE_WAITS_SKIPPED_TOTAL, "source" => source.to_string()).increment(1);
}

/// Intake permits and inline waiters held now (set when `/metrics` is scraped).
pub fn admission(intake_in_flight: usize, inline_waiters: usize) {
    metrics::gauge!(INTAKE_IN_FLIGHT).set(intake_in_flight as f64);
    metrics::gauge!(INLINE_WAITERS).set(inline_waiters as f64);
}

/// One signup refused by its source's email-domain policy.
pub fn email_domain_refused(source: &str, reason: &str) {
    metrics::counter!(EMAIL_DOMAIN_REFUSALS_TOTAL, "source" => source.to_string(), "reason" => reason.to_string()).increment(1);
}

/// The `tenant` label: a configured tenant's id, or `inst-` + the first 8 hex digits of the
/// SHA-256 of an installation's clientKey.
pub fn tenant_label(tenant: &str, is_installation: bool) -> String {
    use sha2::{Digest, Sha256};
    match is_installation {
        false => tenant.to_string(),
        true => {
            let digest = Sha256::digest(tenant.as_bytes());
            format!("inst-{}", hex::encode(&digest[..4]))
        }
    }
}

/// One JSM call and how it ended; `tenant` is a [`tenant_label`].
pub fn jsm_request(tenant: &str, outcome: &'static str, took: Duration) {
    metrics::counter!(JSM_REQUESTS_TOTAL, "tenant" => tenant.to_string(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!(JSM_REQUEST_DURATION, "tenant" => tenant.to_string())
        .record(took.as_secs_f64());
}

/// One JSM answer warned that the app is near its rate limit.
pub fn near_limit(tenant: &str) {
    metrics::counter!(JSM_NEAR_LIMIT_TOTAL, "tenant" => tenant.to_string()).increment(1);
}

/// How many tenants wait for a Forge call, for one reason.
pub fn tenants_waiting(reason: &'static str, count: usize) {
    metrics::gauge!(TENANTS_WAITING, "reason" => reason).set(count as f64);
}

pub fn pending(count: i64) {
    metrics::gauge!(PENDING_SIGNUPS).set(count as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installations_are_labelled_by_a_short_hash() {
        // sha256("client-0001") starts with these 4 bytes.
        let label = tenant_label("client-0001", true);
        assert!(label.starts_with("inst-") && label.len() == 13, "{label}");
        assert!(!label.contains("client"));
        assert_eq!(label, tenant_label("client-0001", true), "stable");
        assert_ne!(label, tenant_label("client-0002", true));
        assert_eq!(tenant_label("acme", false), "acme");
    }
}
