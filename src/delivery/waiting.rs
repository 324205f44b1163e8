//! Waiting without spending a run: before claiming a tenant's signups, the worker asks the
//! directory whether the tenant can be called. A Forge installation without a usable token
//! (or uninstalled) is skipped; its pending signups get a `waiting` lastError once, and the
//! gauge `signup_bridge_tenants_waiting{reason}` counts such tenants at every pass.

use std::collections::HashMap;

use tracing::warn;

use super::Engine;
use super::forge_tenants::{Readiness, WaitReason};
use crate::domain::LastError;
use crate::jsm::JsmTarget;

/// The tenants seen waiting in one pass of the worker, by reason.
#[derive(Default)]
pub(super) struct WaitingTally(HashMap<&'static str, usize>);

impl WaitingTally {
    /// Publish the pass's counts (zero for every reason not seen).
    pub(super) fn publish(self) {
        for reason in WaitReason::ALL {
            let n = self.0.get(reason.label()).copied().unwrap_or(0);
            crate::metrics::tenants_waiting(reason.label(), n);
        }
    }
}

impl Engine {
    /// The tenant's target when it can be called now; otherwise None, and a waiting tenant's
    /// signups say why.
    pub(super) async fn callable(
        &self,
        tenant: &str,
        tally: &mut WaitingTally,
    ) -> Option<JsmTarget> {
        match self.directory.readiness(tenant).await {
            Readiness::Ready(target) => Some(*target),
            Readiness::Unavailable => None,
            Readiness::Waiting(reason) => {
                *tally.0.entry(reason.label()).or_default() += 1;
                let error = LastError::new("waiting", reason.explain(), reason.explain());
                if let Err(e) = self.store.mark_waiting(tenant, &error).await {
                    warn!(tenant, error = %e, "could not record why signups wait");
                }
                None
            }
        }
    }
}
