//! Resolving a duplicate email to the existing customer (SPEC §17 rule 2).
//!
//! An email JSM already has is resolved by looking the account up: the user
//! search, plus the desk customer search when the signup has a desk step. Accounts shown but
//! none with a readable equal email end the signup at once; an empty answer is retried within
//! a short index-lag allowance ([`INDEX_LAG_RUNS`], [`INDEX_LAG`]). Either way, when no account
//! is found the signup ends `existing` with `customer: null`, its desk and organization steps
//! `skipped`, and `lastError` `account_unreadable: …` saying which case it was.

use serde_json::Value;
use tracing::info;

use super::Engine;
use super::gate::TenantGate;
use super::run::{StepError, ok};
use crate::domain::{LastError, SignupStatus, StepKind, existing_customer, now_ms};
use crate::jsm::{JsmError, JsmTarget, Lookup};
use crate::store::ClaimedSignup;

/// An empty lookup is searched again by at most this many runs of the signup …
pub const INDEX_LAG_RUNS: u32 = 3;
/// … and only while the signup is younger than this (JSM's search index lags a create by
/// seconds, not hours).
pub const INDEX_LAG: std::time::Duration = std::time::Duration::from_secs(60);

impl Engine {
    /// JSM said the email is taken: find the account, or end `existing` without one.
    pub(super) async fn resolve_existing(
        &self,
        claimed: &ClaimedSignup,
        target: &JsmTarget,
        gate: &TenantGate,
    ) -> Result<(SignupStatus, Option<Value>, Option<LastError>), StepError> {
        let signup = &claimed.signup;
        let desk = signup
            .steps
            .iter()
            .find_map(|s| match StepKind::parse(&s.name) {
                Some(StepKind::ServiceDesk(desk)) => Some(desk),
                _ => None,
            });
        let found = self
            .call(
                claimed,
                target,
                gate,
                ok,
                self.jsm
                    .find_customer(target, &signup.email, desk.as_deref()),
            )
            .await?;
        let unreadable = match found {
            // Record only what the sender may see of a customer it did not create.
            Lookup::Found(user) => {
                let kept = existing_customer(&user, &signup.email, &signup.display_name);
                return Ok((SignupStatus::Existing, kept, None));
            }
            Lookup::Unreadable { hidden } => account_unreadable(&format!(
                "JSM showed {hidden} account(s) whose email it hides (profile visibility, or \
                 managed elsewhere) and none with this readable email"
            )),
            Lookup::Empty if within_index_lag(signup) => {
                return Err(StepError::Jsm(JsmError::NotFound(Some(
                    "JSM reported the email as taken, but its search shows no account \
                     yet (index lag)"
                        .into(),
                ))));
            }
            Lookup::Empty => account_unreadable(
                "JSM reported the email as taken, but its search shows no account: the \
                 account is inactive, or these credentials lack Browse users and groups \
                 (USER_PICKER)",
            ),
        };
        info!(detail = %unreadable.detail, "existing account unreadable");
        Ok((SignupStatus::Existing, None, Some(unreadable)))
    }
}

/// The note an `existing` signup without a readable account completes with.
fn account_unreadable(detail: &str) -> LastError {
    LastError::new(
        "account_unreadable",
        "JSM has an account with this email that these credentials cannot read",
        detail,
    )
}

/// Whether an empty lookup may still be JSM's index lagging behind a create.
fn within_index_lag(signup: &crate::domain::Signup) -> bool {
    let age_ms = now_ms().saturating_sub(signup.created_at);
    signup.attempts < INDEX_LAG_RUNS && age_ms < INDEX_LAG.as_millis() as i64
}
