//! A run's outcome: the completion (with the last step in the same write) or the failure
//! (retry later, or failed), and a 429 pause kept in the database.

use serde_json::Value;
use tracing::{info, warn};

use super::Engine;
use super::backoff::retry_delay;
use super::gate::TenantGate;
use crate::domain::{LastError, SignupStatus, StepState, now_ms};
use crate::jsm::JsmError;
use crate::store::{ClaimedSignup, TransitionError};

/// The last step's result, recorded with the completion.
pub(super) struct LastStep {
    pub(super) position: usize,
    pub(super) state: StepState,
    pub(super) resolution: Option<(SignupStatus, Option<Value>)>,
}

impl Engine {
    /// Record the outcome: with the last step in the same write when this run finished one.
    pub(super) async fn complete(
        &self,
        claimed: &ClaimedSignup,
        last: Option<LastStep>,
        note: Option<&LastError>,
    ) -> Result<(), TransitionError> {
        let (id, lease) = (&claimed.signup.id, &claimed.lease);
        let step = last.as_ref().map(|step| (step.position, step.state));
        let resolution = last
            .as_ref()
            .and_then(|step| step.resolution.as_ref())
            .map(|(status, customer)| (*status, customer.as_ref()));
        self.store.complete(id, lease, step, resolution, note).await
    }

    pub(super) async fn record_failure(
        &self,
        claimed: &ClaimedSignup,
        gate: &TenantGate,
        position: usize,
        error: JsmError,
    ) {
        let signup = &claimed.signup;
        let step = signup.steps.get(position).map_or("?", |s| s.name.as_str());
        let last = error.last_error(step);
        let exhausted = signup.attempts >= signup.attempt_limit;
        let result = if !error.is_retryable() || exhausted {
            warn!(step, error = %last.detail, attempts = signup.attempts, "signup failed");
            self.store
                .fail(&signup.id, &claimed.lease, position, &last)
                .await
        } else {
            let delay = retry_delay(
                signup.attempts,
                self.config.backoff_base,
                self.config.backoff_max,
                rand::random::<f64>(),
                error
                    .retry_after()
                    .max(gate.paused_until().map(|u| u - tokio::time::Instant::now())),
            );
            info!(step, error = %last.detail, retry_in = ?delay, "will retry");
            let at = now_ms() + delay.as_millis() as i64;
            self.store
                .retry_later(&signup.id, &claimed.lease, at, &last)
                .await
        };
        if let Err(e) = result {
            warn!(error = %e, "could not record the outcome");
        }
        if let Some(until) = gate.paused_until() {
            // Keep the pause in the database too, so a restart inside the window waits it out.
            let until_ms = now_ms() + (until - tokio::time::Instant::now()).as_millis() as i64;
            if let Err(e) = self.store.hold_tenant(&signup.tenant, until_ms).await {
                warn!(error = %e, "could not record the tenant's pause");
            }
        }
    }
}
