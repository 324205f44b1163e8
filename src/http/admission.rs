//! Admission: how much intake work one process holds at once (SPEC §21, docs/DECISIONS.md
//! "A bounded intake").
//!
//! Two bounds, never a queue. Each request holds memory (its connection, body, task) for as long
//! as it is being answered; an open loop that outpaces delivery would otherwise grow without
//! bound.
//!
//! - **Intake in flight** (`server.max_intake_in_flight`): a permit from after the cheap checks
//!   (token, rate limit, payload, key, email policy) until the signup is committed, or the
//!   request is answered otherwise. None free: `503 overloaded` with `Retry-After: 1` and
//!   nothing stored. A replay answered from memory alone needs none.
//! - **Inline waiters** (`delivery.max_inline_waiters`): a permit for waiting on the worker's
//!   outcome after the commit. None free: the committed signup is answered `202` at once, never
//!   a 503 (its row is durable; the answer must say it was accepted).
//!
//! Both are `try_acquire`: a request never waits for a permit, so refusing costs no memory.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// The two bounds of one process.
pub struct Admission {
    intake: Arc<Semaphore>,
    intake_limit: usize,
    waiters: Arc<Semaphore>,
    waiters_limit: usize,
}

/// Held by a request from admission until its signup is committed (or it is answered).
pub struct IntakePermit {
    _held: OwnedSemaphorePermit,
}

/// Held by a request while it waits inline for the worker.
pub struct WaiterPermit {
    _held: OwnedSemaphorePermit,
}

impl Admission {
    pub fn new(max_intake_in_flight: usize, max_inline_waiters: usize) -> Self {
        Self {
            intake: Arc::new(Semaphore::new(max_intake_in_flight)),
            intake_limit: max_intake_in_flight,
            waiters: Arc::new(Semaphore::new(max_inline_waiters)),
            waiters_limit: max_inline_waiters,
        }
    }

    /// A permit to store a signup of `source`, or `503 overloaded` (counted) when none is free.
    pub fn admit(&self, source: &str) -> Result<IntakePermit, ApiError> {
        match Arc::clone(&self.intake).try_acquire_owned() {
            Ok(permit) => Ok(IntakePermit { _held: permit }),
            Err(_) => {
                crate::metrics::intake_overloaded(source);
                Err(ApiError::Overloaded(format!(
                    "this instance is already storing {} signups, its limit \
                     (server.max_intake_in_flight); nothing was stored, retry after the \
                     Retry-After seconds",
                    self.intake_limit
                )))
            }
        }
    }

    /// A permit to wait inline, or None when `max_inline_waiters` requests already wait.
    pub fn wait_inline(&self) -> Option<WaiterPermit> {
        Arc::clone(&self.waiters)
            .try_acquire_owned()
            .ok()
            .map(|permit| WaiterPermit { _held: permit })
    }

    /// Requests holding an intake permit now.
    pub fn intake_in_flight(&self) -> usize {
        self.intake_limit - self.intake.available_permits()
    }

    /// Requests waiting inline now.
    pub fn inline_waiters(&self) -> usize {
        self.waiters_limit - self.waiters.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[test]
    fn intake_refuses_past_its_limit_until_a_permit_is_returned() {
        let admission = Admission::new(2, 1);
        let a = admission.admit("s").unwrap();
        let _b = admission.admit("s").unwrap();
        assert_eq!(admission.intake_in_flight(), 2);
        let refused = admission.admit("s").err().unwrap();
        assert_eq!(refused.code(), "overloaded");
        assert_eq!(refused.status_code().as_u16(), 503);
        drop(a);
        assert_eq!(admission.intake_in_flight(), 1);
        assert!(admission.admit("s").is_ok());
    }

    #[test]
    fn inline_waiters_are_bounded_on_their_own() {
        let admission = Admission::new(1, 2);
        let _intake = admission.admit("s").unwrap();
        let w1 = admission.wait_inline();
        let w2 = admission.wait_inline();
        assert!(
            w1.is_some() && w2.is_some(),
            "intake permits are not waiter permits"
        );
        assert!(admission.wait_inline().is_none());
        assert_eq!(admission.inline_waiters(), 2);
        drop(w1);
        assert!(admission.wait_inline().is_some());
    }
}
