//! Resolving a signup's tenant to where and how to call JSM, at call time.

use std::collections::HashMap;

use url::Url;

use crate::config::{Config, IdOrKey, SourceConfig, TenantAuth, TenantConfig};
use crate::jsm::{JsmTarget, OutboundAuth};

/// A tenant a new signup may be sent to, with the steps its signups take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTenant {
    pub id: String,
    pub service_desk_ids: Vec<String>,
    pub organization_ids: Vec<String>,
}

/// Why a tenant cannot take signups now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TenantUnavailable(pub String);

/// Every tenant the bridge can call.
#[derive(Clone, Default)]
pub struct TenantDirectory {
    configured: HashMap<String, (TenantConfig, JsmTarget)>,
    /// Configured tenants this version cannot call yet, with the reason.
    unsupported: HashMap<String, String>,
}

impl TenantDirectory {
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let mut directory = Self::default();
        for tenant in &config.tenants {
            directory.add(tenant.clone())?;
        }
        Ok(directory)
    }

    /// Add a configured tenant (the sandbox adds its own at start).
    pub fn add(&mut self, tenant: TenantConfig) -> Result<(), String> {
        let base_url = Url::parse(&tenant.base_url)
            .map_err(|e| format!("tenant {}: base_url: {e}", tenant.id))?;
        let auth = match &tenant.auth {
            TenantAuth::Basic { email, api_token } => OutboundAuth::Basic {
                email: email.clone(),
                api_token: api_token.clone(),
            },
            TenantAuth::Bearer { token } => OutboundAuth::Bearer {
                token: token.clone(),
            },
            TenantAuth::OauthClientCredentials { .. } => {
                let reason = format!(
                    "tenant {:?} uses oauth_client_credentials, which this version cannot call yet",
                    tenant.id
                );
                tracing::warn!("{reason}; its signups are refused with 503");
                self.unsupported.insert(tenant.id.clone(), reason);
                return Ok(());
            }
        };
        let target = JsmTarget {
            tenant: tenant.id.clone(),
            base_url,
            auth,
        };
        self.configured.insert(tenant.id.clone(), (tenant, target));
        Ok(())
    }

    /// The tenant a source's new signups go to, or why none can take them now.
    pub fn resolve_for_source(
        &self,
        source: &SourceConfig,
    ) -> Result<ResolvedTenant, TenantUnavailable> {
        if let Some(reason) = self.unsupported.get(&source.tenant) {
            return Err(TenantUnavailable(reason.clone()));
        }
        let (tenant, _) = self.configured.get(&source.tenant).ok_or_else(|| {
            TenantUnavailable(format!(
                "tenant {:?} is not configured and no installation matches it",
                source.tenant
            ))
        })?;
        let ids = |own: &Option<Vec<IdOrKey>>, tenant: &[IdOrKey]| -> Vec<String> {
            own.as_deref()
                .unwrap_or(tenant)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        Ok(ResolvedTenant {
            id: tenant.id.clone(),
            service_desk_ids: ids(&source.service_desk_ids, &tenant.service_desk_ids),
            organization_ids: ids(&source.organization_ids, &tenant.organization_ids),
        })
    }

    /// Where to call for a recorded signup's tenant; `None` while it cannot be called.
    pub async fn target(&self, tenant_id: &str) -> Option<JsmTarget> {
        self.configured
            .get(tenant_id)
            .map(|(_, target)| target.clone())
    }
}
