//! 429s under points-based rate limits. A 429 whose `RateLimit-Reason` says the app's global
//! quota is spent pauses every tenant the bridge calls as an app (Forge and Connect), not only
//! the one that got it: their calls draw on the same quota. The pause is kept in the database
//! too, like a one-tenant pause, so a restart inside the window waits it out.

use std::time::Duration;

use tracing::{info, warn};

use super::Engine;
use super::gate::TenantGate;
use crate::domain::now_ms;

impl Engine {
    /// JSM answered 429: pause the tenant until `retry_after` (1 s when JSM did not say), and
    /// every app tenant too when the app's global quota is spent.
    pub(super) async fn pause_after_429(
        &self,
        gate: &TenantGate,
        retry_after: Option<Duration>,
        global: bool,
    ) {
        let pause = retry_after.unwrap_or(Duration::from_secs(1));
        gate.pause_for(pause);
        if global {
            self.pause_app_tenants(pause).await;
        }
    }

    /// Pause every app-authenticated tenant for `pause`.
    async fn pause_app_tenants(&self, pause: Duration) {
        let tenants = match self.store.app_tenants().await {
            Ok(tenants) => tenants,
            Err(e) => {
                warn!(error = %e, "cannot list the app tenants to pause");
                return;
            }
        };
        let pause = pause.min(super::gate::MAX_PAUSE);
        let until_ms = now_ms() + pause.as_millis() as i64;
        for tenant in &tenants {
            self.gates.get(tenant).pause_for(pause);
            if let Err(e) = self.store.hold_tenant(tenant, until_ms).await {
                warn!(error = %e, "could not record the tenant's pause");
            }
        }
        info!(
            tenants = tenants.len(),
            pause = ?pause,
            "the app's global quota is spent: every app tenant paused"
        );
    }
}
