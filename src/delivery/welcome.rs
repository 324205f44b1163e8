//! The welcome request step (SPEC §20): one request raised on the new customer's behalf, so
//! JSM notifies them and the portal link reaches them.
//!
//! Exactly once across crashes: the step is recorded before the next call, as every step is;
//! when a run may follow one whose outcome was lost (this is not the signup's first run: a
//! crash, a lost lease, a timeout or a 5xx after JSM may have applied the request), the bridge
//! first searches for the request by reporter and the signup's marker word and records the step
//! done without sending when it finds it. The search lags behind writes (docs/DECISIONS.md):
//! a request made moments before a crash may be missed, which the retry's wait makes unlikely,
//! not impossible.

use tracing::info;

use super::Engine;
use super::gate::TenantGate;
use super::run::{StepError, ok};
use crate::domain::StepState;
use crate::jsm::{JsmTarget, WelcomeCall, welcome_marker};
use crate::store::ClaimedSignup;

impl Engine {
    /// Raise the welcome request for `account` unless the search shows it was raised already.
    pub(super) async fn welcome(
        &self,
        claimed: &ClaimedSignup,
        target: &JsmTarget,
        gate: &TenantGate,
        service_desk: &str,
        request_type: &str,
        account: &str,
    ) -> Result<StepState, StepError> {
        let signup = &claimed.signup;
        // The texts are read from the configuration as it is now; removed since, nothing is sent.
        let Some(template) = self
            .directory
            .welcome_for(&signup.source_id, &signup.tenant)
        else {
            info!("welcome_request is no longer configured; step skipped");
            return Ok(StepState::Skipped);
        };
        if signup.is_erased() {
            return Ok(StepState::Skipped);
        }
        let text = template.fill(&signup.display_name, &signup.email);
        let marker = welcome_marker(&signup.id);
        let call = WelcomeCall {
            service_desk,
            request_type,
            account_id: account,
            marker: &marker,
        };
        if signup.attempts > 1 {
            let found = self
                .call(
                    claimed,
                    target,
                    gate,
                    ok,
                    self.jsm.find_request(target, call),
                )
                .await?;
            if let Some(issue) = found {
                info!(%issue, "the welcome request was raised by an earlier run; not sent again");
                return Ok(StepState::Done);
            }
        }
        self.call(
            claimed,
            target,
            gate,
            ok,
            self.jsm
                .create_request(target, call, &text.summary, &text.description),
        )
        .await?;
        Ok(StepState::Done)
    }
}
