//! 429s under points-based rate limits (SPEC §17 rule 5). Published fact: the points-based
//! quotas (`RateLimit-Reason: jira-quota-global-based` / `jira-quota-tenant-based`) apply per
//! app — Forge, Connect, OAuth 2.0 apps — while API-token traffic has burst limits only. So a
//! `jira-quota-*` 429 pauses every tenant of the same app, not only the one that got it: every
//! Connect and Forge installation (one app), or every OAuth tenant with the same `client_id`.
//! A basic-auth or bearer tenant pauses only itself, whatever the reason. The pause is kept in
//! the database too, like a one-tenant pause, so a restart inside the window waits it out.

use std::time::Duration;

use tracing::{info, warn};

use super::Engine;
use super::gate::TenantGate;
use crate::domain::now_ms;
use crate::jsm::{JsmTarget, OutboundAuth};

impl Engine {
    /// JSM answered 429: pause the tenant until `retry_after` (1 s when JSM did not say), and
    /// every tenant of the same app too when a points-based quota is spent.
    pub(super) async fn pause_after_429(
        &self,
        gate: &TenantGate,
        target: &JsmTarget,
        retry_after: Option<Duration>,
        quota: bool,
    ) {
        let pause = retry_after.unwrap_or(Duration::from_secs(1));
        gate.pause_for(pause);
        if !quota {
            return;
        }
        let same_app = match &target.auth {
            OutboundAuth::App(_) => match self.store.app_tenants().await {
                Ok(tenants) => tenants,
                Err(e) => {
                    warn!(error = %e, "cannot list the app tenants to pause");
                    return;
                }
            },
            OutboundAuth::OAuth(source) => self.directory.oauth_tenants_of(source.client_id()),
            // API tokens and static bearer tokens have burst limits only: no shared quota.
            OutboundAuth::Basic { .. } | OutboundAuth::Bearer { .. } => return,
        };
        self.pause_tenants(&same_app, pause).await;
    }

    /// Pause each of `tenants` for `pause`, in memory and in the database.
    async fn pause_tenants(&self, tenants: &[String], pause: Duration) {
        let pause = pause.min(super::gate::MAX_PAUSE);
        let until_ms = now_ms() + pause.as_millis() as i64;
        for tenant in tenants {
            self.gates.get(tenant).pause_for(pause);
            if let Err(e) = self.store.hold_tenant(tenant, until_ms).await {
                warn!(error = %e, "could not record the tenant's pause");
            }
        }
        info!(
            tenants = tenants.len(),
            pause = ?pause,
            "the app's points-based quota is spent: every tenant of the app paused"
        );
    }
}
