//! One delivery run: a claimed signup's pending steps, in order. A finished step is recorded
//! before the next JSM call, so a crash never repeats it; the last step is recorded together
//! with the outcome (one write), so a one-step signup costs the worker two commits, the claim
//! and this. A failing call ends the run. The welcome request step is in `welcome`.

use std::sync::atomic::Ordering;

use serde_json::Value;
use tracing::{Instrument, info, info_span, warn};

use super::Engine;
use super::gate::TenantGate;
use super::outcome::LastStep;
use crate::domain::{LastError, SignupStatus, StepKind, StepState, mask_email, now_ms};
use crate::jsm::{CreateOutcome, JsmError, JsmTarget};
use crate::store::{ClaimedSignup, TransitionError};

/// Why a step did not finish.
pub(super) enum StepError {
    Jsm(JsmError),
    Store(TransitionError),
}

impl From<TransitionError> for StepError {
    fn from(e: TransitionError) -> Self {
        Self::Store(e)
    }
}

impl Engine {
    /// Run the claimed signup's remaining steps; every outcome is recorded before returning.
    pub(super) async fn run(&self, claimed: ClaimedSignup, target: JsmTarget, gate: &TenantGate) {
        let span = info_span!(
            "delivery",
            otel.name = "delivery run",
            signup = %claimed.signup.id,
            tenant = %claimed.signup.tenant,
            attempt = claimed.signup.attempts
        );
        // Every run joins the trace its intake began (on whichever instance, however late).
        crate::traces::continue_from_stored(&span, claimed.trace_parent.as_deref());
        let run = claimed.signup.attempts;
        crate::traces::RUN.scope(run, async {
            if claimed.signup.attempts > claimed.signup.attempt_limit {
                // A run that died (crash, lost lease) still counted: the budget is spent.
                let position = first_pending(&claimed);
                let error = LastError::new(
                    "exhausted",
                    "no delivery runs left",
                    "no delivery runs left (the last one was interrupted)",
                );
                if let Err(e) = self
                    .store
                    .fail(&claimed.signup.id, &claimed.lease, position, &error)
                    .await
                {
                    warn!(error = %e, "could not record the failure");
                }
                return;
            }
            match self.run_steps(&claimed, &target, gate).await {
                Ok((last, note)) => match self.complete(&claimed, last, note.as_ref()).await {
                    Ok(()) => info!(email = %mask_email(&claimed.signup.email), "signup delivered"),
                    Err(e) => warn!(error = %e, "could not record completion"),
                },
                Err((position, StepError::Jsm(error))) => {
                    self.record_failure(&claimed, gate, position, error).await;
                }
                Err((_, StepError::Store(e))) => warn!(error = %e, "run stopped"),
            }
        }
        .instrument(span))
        .await;
        self.changed(&claimed.signup.id).await;
    }

    /// Run the pending steps; every one but the last is recorded before the next call, the
    /// last is handed back to be recorded with the completion.
    async fn run_steps(
        &self,
        claimed: &ClaimedSignup,
        target: &JsmTarget,
        gate: &TenantGate,
    ) -> Result<(Option<LastStep>, Option<LastError>), (usize, StepError)> {
        let signup = &claimed.signup;
        let lease = &claimed.lease;
        let mut account_id = account_id_of(signup.customer.as_ref());
        let mut finished: Option<LastStep> = None;
        let mut note = None;
        for (position, step) in signup.steps.iter().enumerate() {
            if step.state != StepState::Pending {
                continue;
            }
            let fail = |e: StepError| (position, e);
            // The previous step is recorded before this step's call: a crash never repeats it.
            if let Some(done) = finished.take() {
                let resolution = done.resolution.as_ref().map(|(s, c)| (*s, c.as_ref()));
                self.store
                    .record_step(&signup.id, lease, done.position, done.state, resolution)
                    .await
                    .map_err(|e| (done.position, e.into()))?;
            }
            let kind = StepKind::parse(&step.name);
            match kind {
                Some(StepKind::Create) => {
                    let (status, customer, unreadable) =
                        self.create(claimed, target, gate).await.map_err(fail)?;
                    account_id = account_id_of(customer.as_ref());
                    note = unreadable;
                    finished = Some(LastStep {
                        position,
                        state: StepState::Done,
                        resolution: Some((status, customer)),
                    });
                }
                _ => {
                    let state = match (&kind, &account_id) {
                        (Some(StepKind::ServiceDesk(desk)), Some(account)) => {
                            self.call(
                                claimed,
                                target,
                                gate,
                                ok,
                                self.jsm.add_to_service_desk(target, desk, account),
                            )
                            .await
                            .map_err(fail)?;
                            StepState::Done
                        }
                        (Some(StepKind::Organization(org)), Some(account)) => {
                            self.call(
                                claimed,
                                target,
                                gate,
                                ok,
                                self.jsm.add_to_organization(target, org, account),
                            )
                            .await
                            .map_err(fail)?;
                            StepState::Done
                        }
                        (
                            Some(StepKind::WelcomeRequest {
                                service_desk,
                                request_type,
                            }),
                            Some(account),
                        ) => self
                            .welcome(claimed, target, gate, service_desk, request_type, account)
                            .await
                            .map_err(fail)?,
                        // No readable existing account: nothing to add it with (or to raise a
                        // request for).
                        _ => StepState::Skipped,
                    };
                    finished = Some(LastStep {
                        position,
                        state,
                        resolution: None,
                    });
                }
            }
        }
        Ok((finished, note))
    }

    /// Create the customer, or resolve JSM's duplicate to the existing one; the third value
    /// is the `account_unreadable` note when no readable account was found.
    async fn create(
        &self,
        claimed: &ClaimedSignup,
        target: &JsmTarget,
        gate: &TenantGate,
    ) -> Result<(SignupStatus, Option<Value>, Option<LastError>), StepError> {
        let signup = &claimed.signup;
        let created = self
            .call(
                claimed,
                target,
                gate,
                create_outcome,
                self.jsm
                    .create_customer(target, &signup.email, &signup.display_name),
            )
            .await?;
        match created {
            CreateOutcome::Created(customer) => Ok((SignupStatus::Created, Some(customer), None)),
            CreateOutcome::AlreadyExists => self.resolve_existing(claimed, target, gate).await,
        }
    }

    /// One JSM call through the tenant's gate, with the lease extended first; `outcome` names
    /// a success for the metrics.
    pub(super) async fn call<T>(
        &self,
        claimed: &ClaimedSignup,
        target: &JsmTarget,
        gate: &TenantGate,
        outcome: fn(&T) -> &'static str,
        call: impl Future<Output = Result<T, JsmError>>,
    ) -> Result<T, StepError> {
        // The lease is extended (when it runs short) after any wait at the gate, and the gate
        // checked again after that write, so a 429 that arrived meanwhile still holds the call.
        let waiting = std::time::Instant::now();
        loop {
            gate.ready_to_send().await;
            self.keep_lease(claimed).await?;
            if gate.paused_until().is_none() {
                break;
            }
        }
        let waited = waiting.elapsed().as_millis() as u64;
        claimed.gate_wait_ms.fetch_add(waited, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let result = call.await;
        let took = started.elapsed();
        let label = result.as_ref().map_or_else(JsmError::outcome, outcome);
        crate::metrics::jsm_request(&target.metrics_label(), label, took);
        if let Err(JsmError::RateLimited { retry_after, quota }) = &result {
            self.pause_after_429(gate, target, *retry_after, *quota)
                .await;
        }
        result.map_err(StepError::Jsm)
    }

    /// Extend the lease before a call when what is left of it may not cover the call and
    /// recording its outcome; otherwise the claim's own lease suffices (one commit saved).
    async fn keep_lease(&self, claimed: &ClaimedSignup) -> Result<(), TransitionError> {
        let now = now_ms();
        let margin = self.config.request_timeout.as_millis() as i64 + 5_000;
        if claimed.lease_until.load(Ordering::Relaxed) - now > margin {
            return Ok(());
        }
        let until = now + self.lease_ms();
        self.store
            .renew_lease(&claimed.signup.id, &claimed.lease, until)
            .await?;
        claimed.lease_until.store(until, Ordering::Relaxed);
        Ok(())
    }
}

fn account_id_of(customer: Option<&Value>) -> Option<String> {
    customer?.get("accountId")?.as_str().map(str::to_string)
}

pub(super) fn ok<T>(_: &T) -> &'static str {
    "ok"
}

fn create_outcome(outcome: &CreateOutcome) -> &'static str {
    match outcome {
        CreateOutcome::Created(_) => "created",
        CreateOutcome::AlreadyExists => "conflict",
    }
}

fn first_pending(claimed: &ClaimedSignup) -> usize {
    claimed
        .signup
        .steps
        .iter()
        .position(|s| s.state == StepState::Pending)
        .unwrap_or(0)
}
