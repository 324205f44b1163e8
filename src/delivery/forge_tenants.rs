//! Forge installations as tenants: where to call (`apiBaseUrl`, with the system token) and,
//! before any claim, whether the installation's signups must wait for Forge's next call.
//!
//! Forge offers no endpoint to fetch a token on demand: tokens arrive only with Forge's calls
//! (lifecycle events, the hourly scheduled trigger). So a signup of an installation without a
//! token, or with one about to expire, is not claimed at all — no run is spent — and waits.

use std::sync::Arc;

use url::Url;

use super::TenantUnavailable;
use super::credentials::{ForgeCredentials, TOKEN_MARGIN};
use super::tenants::TenantDirectory;
use crate::domain::now_ms;
use crate::jsm::{JsmTarget, OutboundAuth};
use crate::store::{ForgeInstallation, ForgeState};

/// Why a tenant's signups wait without spending a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// No Forge call brought a token yet, or JSM refused the last one (401).
    NoToken,
    /// The token expires within a minute.
    TokenExpiring,
    /// The app was uninstalled (`preUninstall`).
    Uninstalled,
}

impl WaitReason {
    pub const ALL: [WaitReason; 3] = [Self::NoToken, Self::TokenExpiring, Self::Uninstalled];

    /// The `reason` label of `signup_bridge_tenants_waiting`.
    pub fn label(self) -> &'static str {
        match self {
            Self::NoToken => "no_token",
            Self::TokenExpiring => "token_expiring",
            Self::Uninstalled => "uninstalled",
        }
    }

    /// The short reason of the `waiting` lastError.
    pub fn explain(self) -> &'static str {
        match self {
            Self::NoToken => "no Forge system token yet; waiting for the next Forge call",
            Self::TokenExpiring => {
                "the Forge system token is about to expire; waiting for the next Forge call"
            }
            Self::Uninstalled => "the Forge app is uninstalled; waiting for a new install",
        }
    }
}

/// Whether a recorded signup's tenant can be called now.
pub enum Readiness {
    Ready(Box<JsmTarget>),
    /// A Forge installation whose signups wait, and why.
    Waiting(WaitReason),
    /// Unknown, or an installation that is not installed (Connect: disabled or uninstalled).
    Unavailable,
}

/// Whether `installation` can be called at `now` (Unix ms).
pub fn forge_wait_reason(installation: &ForgeInstallation, now: i64) -> Option<WaitReason> {
    if installation.state == ForgeState::Uninstalled {
        return Some(WaitReason::Uninstalled);
    }
    match (&installation.system_token, installation.token_expires_at) {
        (Some(_), Some(exp)) if exp.saturating_sub(now) > TOKEN_MARGIN.as_millis() as i64 => None,
        (Some(_), Some(_)) => Some(WaitReason::TokenExpiring),
        _ => Some(WaitReason::NoToken),
    }
}

impl TenantDirectory {
    /// Where to call for a recorded signup's tenant; `None` while it cannot be called (an
    /// installation that is disabled, uninstalled or unknown: its signups wait).
    pub async fn target(&self, tenant_id: &str) -> Option<JsmTarget> {
        match self.readiness(tenant_id).await {
            Readiness::Ready(target) => Some(*target),
            _ => None,
        }
    }

    /// Where to call for a recorded signup's tenant, or why not now.
    pub async fn readiness(&self, tenant_id: &str) -> Readiness {
        if let Some(target) = self.connect_target(tenant_id).await {
            return Readiness::Ready(Box::new(target));
        }
        let Some(lookup) = self.installations.as_ref() else {
            return Readiness::Unavailable;
        };
        let installation = match lookup.store.forge_installation(tenant_id).await {
            Ok(Some(installation)) => installation,
            Ok(None) => return Readiness::Unavailable,
            Err(e) => {
                tracing::warn!(tenant = %tenant_id, error = %e, "cannot read Forge installations");
                return Readiness::Unavailable;
            }
        };
        if let Some(reason) = forge_wait_reason(&installation, now_ms()) {
            return Readiness::Waiting(reason);
        }
        // Checked when a FIT brought it, and again here: a stored apiBaseUrl changed since
        // (or an `api_hosts` list narrowed since) never receives the system token.
        if !lookup.forge.api_base_allowed(&installation.api_base_url) {
            tracing::warn!(
                tenant = %tenant_id,
                api_base_url = %crate::config::redact_url(&installation.api_base_url),
                "the installation's apiBaseUrl is not on forge.api_hosts; not calling it"
            );
            return Readiness::Unavailable;
        }
        let base_url = match Url::parse(&installation.api_base_url) {
            Ok(url) => url,
            Err(e) => {
                tracing::warn!(tenant = %tenant_id, error = %e, "apiBaseUrl does not parse");
                return Readiness::Unavailable;
            }
        };
        Readiness::Ready(Box::new(JsmTarget {
            tenant: installation.installation_id.clone(),
            base_url,
            auth: OutboundAuth::App(Arc::new(ForgeCredentials {
                installation_id: installation.installation_id,
                store: lookup.store.clone(),
                permission_grace: lookup.permission_grace,
                forge: lookup.forge.clone(),
            })),
        }))
    }

    /// The installationId of the Forge installation a source names, if it takes signups.
    /// An installed one does even without a token: its signups wait for one.
    pub(super) async fn forge_for_source(
        &self,
        reference: &str,
    ) -> Result<String, TenantUnavailable> {
        let found = match self.installations.as_ref() {
            Some(lookup) => lookup
                .store
                .forge_installation_by_reference(reference)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "cannot read Forge installations");
                    None
                }),
            None => None,
        };
        match found {
            Some(i) if i.state == ForgeState::Installed => Ok(i.installation_id),
            Some(i) => Err(TenantUnavailable(format!(
                "the Forge installation {:?} is uninstalled",
                i.installation_id
            ))),
            None => Err(TenantUnavailable(format!(
                "tenant {reference:?} is not configured and no installation matches it"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn installation(token: bool, exp_in_ms: Option<i64>, state: ForgeState) -> ForgeInstallation {
        ForgeInstallation {
            installation_id: "i-1".into(),
            api_base_url: "https://api.atlassian.com/ex/jira/c".into(),
            cloud_id: None,
            site_url: None,
            system_token: token.then(|| Secret::new("t")),
            token_expires_at: exp_in_ms.map(|ms| 1_000_000 + ms),
            state,
            installed_at: 0,
        }
    }

    #[test]
    fn a_token_is_used_only_with_a_minute_to_spare() {
        use ForgeState::Installed;
        use WaitReason::{NoToken, TokenExpiring};
        let cases = [
            (installation(true, Some(3_600_000), Installed), None),
            (installation(true, Some(60_001), Installed), None),
            (
                installation(true, Some(60_000), Installed),
                Some(TokenExpiring),
            ),
            (installation(true, Some(-5), Installed), Some(TokenExpiring)),
            (installation(false, None, Installed), Some(NoToken)),
            (installation(true, None, Installed), Some(NoToken)),
            (
                installation(true, Some(3_600_000), ForgeState::Uninstalled),
                Some(WaitReason::Uninstalled),
            ),
        ];
        for (i, (inst, want)) in cases.iter().enumerate() {
            assert_eq!(forge_wait_reason(inst, 1_000_000), *want, "case {i}");
        }
    }
}
