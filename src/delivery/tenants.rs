//! Resolving a signup's tenant to where and how to call JSM, at call time.
//!
//! A name that is a `[[tenants]]` id is a configured tenant. Any other name is a Connect
//! installation reference — its clientKey or its baseUrl — or else a Forge installation
//! reference — its installationId, cloudId or site URL — looked up in the store per request,
//! so installs, disables and re-installs take effect without a restart. Only an `installed`
//! installation takes new signups or receives calls; its signups are recorded under its
//! clientKey (installationId), and while it is disabled or uninstalled they wait. A Forge
//! installation's signups also wait while it holds no usable system token (`readiness`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::credentials::ConnectCredentials;
use crate::config::base_hosts::is_allowed;
use crate::config::{
    Config, ForgeConfig, IdOrKey, OrganizationRule, SourceConfig, TenantAuth, TenantConfig,
    WelcomeRequest,
};
use crate::domain::{StepKind, email_domains};
use crate::jsm::{JsmTarget, OAuthTokenSource, OutboundAuth};
use crate::store::{Installation, InstallationState, Store};

/// A tenant a new signup may be sent to, with the steps its signups take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTenant {
    pub id: String,
    pub service_desk_ids: Vec<String>,
    pub organization_ids: Vec<String>,
    /// The domain rules that apply (the source's, else the tenant's).
    pub organization_rules: Vec<OrganizationRule>,
    /// The welcome request that applies (the source's, else the tenant's).
    pub welcome_request: Option<WelcomeRequest>,
}

impl ResolvedTenant {
    /// The organizations a signup at `email` joins: the fixed ones, then those of the most
    /// specific domain rule, each once.
    pub fn organizations_for(&self, email: &str) -> Vec<String> {
        let domain = email_domains::domain_of(email);
        let mut ids = self.organization_ids.clone();
        let rule = email_domains::most_specific(&self.organization_rules, &domain, |r| &r.domain);
        for id in rule.into_iter().flat_map(|r| &r.organization_ids) {
            let id = id.to_string();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// The steps a new signup at `email` takes, in order: `create`, each desk, each
    /// organization (fixed, then by domain rule), then the welcome request (after the desk
    /// and organization steps, SPEC §20). Written when the signup is accepted.
    pub fn steps_for(&self, email: &str) -> Vec<String> {
        std::iter::once("create".to_string())
            .chain(
                self.service_desk_ids
                    .iter()
                    .map(|id| format!("service_desk:{id}")),
            )
            .chain(
                self.organizations_for(email)
                    .iter()
                    .map(|id| format!("organization:{id}")),
            )
            .chain(self.welcome_request.as_ref().map(|w| {
                StepKind::WelcomeRequest {
                    service_desk: w.service_desk_id.to_string(),
                    request_type: w.request_type_id.to_string(),
                }
                .name()
            }))
            .collect()
    }
}

/// Why a tenant cannot take signups now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TenantUnavailable(pub String);

/// Every tenant the bridge can call.
#[derive(Clone, Default)]
pub struct TenantDirectory {
    configured: HashMap<String, (TenantConfig, JsmTarget)>,
    /// Each source's own `welcome_request`, by source id (read again at run time).
    source_welcome: HashMap<String, WelcomeRequest>,
    /// Bounds each OAuth token fetch (`delivery.request_timeout`; zero → 10 s).
    token_timeout: Duration,
    /// Connect and Forge installations, when the directory has a store.
    pub(super) installations: Option<Installations>,
}

#[derive(Clone)]
pub(super) struct Installations {
    pub(super) store: Store,
    app_key: String,
    pub(super) permission_grace: Duration,
    /// `connect.allowed_base_hosts`: checked again before every call to a stored `baseUrl`.
    allowed_base_hosts: Vec<String>,
    /// `[forge]`: its `api_hosts` checked again before every call to a stored `apiBaseUrl`.
    pub(super) forge: ForgeConfig,
}

impl TenantDirectory {
    /// The configured tenants, and the store's Connect installations.
    pub fn from_config(config: &Config, store: Store) -> Result<Self, String> {
        let mut directory = Self {
            installations: Some(Installations {
                store,
                app_key: config.connect.app_key.clone(),
                permission_grace: config.forge.permission_grace,
                allowed_base_hosts: config.connect.allowed_base_hosts.clone(),
                forge: config.forge.clone(),
            }),
            token_timeout: config.delivery.request_timeout,
            ..Self::default()
        };
        for tenant in &config.tenants {
            directory.add(tenant.clone())?;
        }
        directory.source_welcome = config
            .sources
            .iter()
            .filter_map(|s| Some((s.id.clone(), s.welcome_request.clone()?)))
            .collect();
        Ok(directory)
    }

    /// The configured OAuth tenants calling with `client_id`: one OAuth app, one points-based
    /// quota (SPEC §17 rule 5).
    pub fn oauth_tenants_of(&self, client_id: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .configured
            .values()
            .filter(|(tenant, _)| {
                matches!(&tenant.auth, TenantAuth::OauthClientCredentials { client_id: c, .. }
                    if c == client_id)
            })
            .map(|(tenant, _)| tenant.id.clone())
            .collect();
        ids.sort();
        ids
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
            TenantAuth::OauthClientCredentials {
                client_id,
                client_secret,
                token_url,
            } => {
                let timeout = match self.token_timeout.is_zero() {
                    true => Duration::from_secs(10),
                    false => self.token_timeout,
                };
                let source = OAuthTokenSource::new(
                    client_id.clone(),
                    client_secret.clone(),
                    token_url.clone(),
                    timeout,
                )
                .map_err(|e| format!("tenant {}: {e}", tenant.id))?;
                // One source per tenant: every call of the tenant shares its cached token.
                OutboundAuth::OAuth(Arc::new(source))
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

    /// The welcome request texts for a signup of `source` to `tenant`, as configured now: the
    /// source's, else the configured tenant's.
    pub fn welcome_for(&self, source: &str, tenant: &str) -> Option<&WelcomeRequest> {
        self.source_welcome.get(source).or_else(|| {
            self.configured
                .get(tenant)
                .and_then(|(t, _)| t.welcome_request.as_ref())
        })
    }

    /// The tenant a source's new signups go to, or why none can take them now.
    pub async fn resolve_for_source(
        &self,
        source: &SourceConfig,
    ) -> Result<ResolvedTenant, TenantUnavailable> {
        let ids = |own: &Option<Vec<IdOrKey>>, tenant: &[IdOrKey]| -> Vec<String> {
            own.as_deref()
                .unwrap_or(tenant)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        if let Some((tenant, _)) = self.configured.get(&source.tenant) {
            return Ok(ResolvedTenant {
                id: tenant.id.clone(),
                service_desk_ids: ids(&source.service_desk_ids, &tenant.service_desk_ids),
                organization_ids: ids(&source.organization_ids, &tenant.organization_ids),
                organization_rules: source
                    .organization_rules
                    .clone()
                    .unwrap_or_else(|| tenant.organization_rules.clone()),
                welcome_request: source
                    .welcome_request
                    .clone()
                    .or_else(|| tenant.welcome_request.clone()),
            });
        }
        let Some(installation) = self.installation(&source.tenant, true).await else {
            let id = self.forge_for_source(&source.tenant).await?;
            return Ok(ResolvedTenant {
                id,
                service_desk_ids: ids(&source.service_desk_ids, &[]),
                organization_ids: ids(&source.organization_ids, &[]),
                organization_rules: source.organization_rules.clone().unwrap_or_default(),
                welcome_request: source.welcome_request.clone(),
            });
        };
        if installation.state != InstallationState::Installed {
            return Err(TenantUnavailable(format!(
                "the Connect installation {:?} is {}",
                installation.client_key,
                installation.state.as_str()
            )));
        }
        Ok(ResolvedTenant {
            id: installation.client_key,
            service_desk_ids: ids(&source.service_desk_ids, &[]),
            organization_ids: ids(&source.organization_ids, &[]),
            organization_rules: source.organization_rules.clone().unwrap_or_default(),
            welcome_request: source.welcome_request.clone(),
        })
    }

    /// A configured tenant or a Connect installation that can be called now.
    pub(super) async fn connect_target(&self, tenant_id: &str) -> Option<JsmTarget> {
        if let Some((_, target)) = self.configured.get(tenant_id) {
            return Some(target.clone());
        }
        let lookup = self.installations.as_ref()?;
        let installation = self
            .installation(tenant_id, false)
            .await
            .filter(|i| i.state == InstallationState::Installed && i.shared_secret.is_some())?;
        let base_url = match Url::parse(&installation.base_url) {
            Ok(url) => url,
            Err(e) => {
                tracing::warn!(tenant = %tenant_id, error = %e, "installation baseUrl does not parse");
                return None;
            }
        };
        // Checked at install, and again here: a stored baseUrl changed since (or an allowed
        // list narrowed since) never receives a signed call.
        if !is_allowed(&base_url, &lookup.allowed_base_hosts) {
            tracing::warn!(
                tenant = %tenant_id,
                base_url = %crate::config::redact_url(&installation.base_url),
                "the installation's baseUrl is not on connect.allowed_base_hosts; not calling it"
            );
            return None;
        }
        Some(JsmTarget {
            tenant: installation.client_key.clone(),
            base_url,
            auth: OutboundAuth::App(Arc::new(ConnectCredentials {
                app_key: lookup.app_key.clone(),
                client_key: installation.client_key,
                store: lookup.store.clone(),
                allowed_base_hosts: lookup.allowed_base_hosts.clone(),
            })),
        })
    }

    /// The installation named by clientKey (or, with `by_base_url`, by baseUrl too).
    pub(super) async fn installation(
        &self,
        reference: &str,
        by_base_url: bool,
    ) -> Option<Installation> {
        let store = &self.installations.as_ref()?.store;
        let found = match by_base_url {
            true => store.installation_by_reference(reference).await,
            false => store.installation(reference).await,
        };
        found.unwrap_or_else(|e| {
            tracing::warn!(tenant = %reference, error = %e, "cannot read installations");
            None
        })
    }
}
