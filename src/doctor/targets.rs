//! What doctor checks: every `[[tenants]]` entry and every Connect and Forge installation in
//! the database, each with the checks that need no network (does the base URL fit the auth
//! type; are an installation's stored credentials present and unexpired) and, when those pass,
//! the JSM target made exactly as delivery makes it (`TenantDirectory`).

use url::Url;

use super::Verdict;
use super::checks::{AuthKind, Member};
use crate::config::{Config, IdOrKey, TenantAuth, TenantConfig};
use crate::delivery::{TenantDirectory, WaitReason, forge_wait_reason};
use crate::domain::{now_ms, rfc3339_ms};
use crate::jsm::JsmTarget;
use crate::store::{ForgeState, InstallationState, Store};

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only this tenant (a `[[tenants]]` id, a clientKey or an installationId).
    pub tenant: Option<String>,
}

/// One tenant to check.
pub struct Target {
    pub id: String,
    /// Where its settings live, for fixes (`tenants[0]`, `installation client-1`).
    pub key: String,
    pub kind: AuthKind,
    /// The findings made without a network call.
    pub offline: Vec<Verdict>,
    /// Where and how to call it; `None` when an offline check already FAILed or it is not
    /// installed (nothing would be sent to it).
    pub jsm: Option<JsmTarget>,
    /// The service desks and organizations its signups join.
    pub members: Vec<Member>,
}

/// Why doctor cannot start.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    #[error("--tenant {0:?} names no configured tenant and no installation")]
    UnknownTenant(String),
    #[error("cannot read installations from the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Config(String),
}

/// Every target, configured tenants first, then Connect, then Forge installations.
pub async fn gather(
    config: &Config,
    store: Option<&Store>,
    options: &Options,
) -> Result<Vec<Target>, GatherError> {
    let directory = match store {
        Some(store) => TenantDirectory::from_config(config, store.clone()),
        None => config
            .tenants
            .iter()
            .try_fold(TenantDirectory::default(), |mut d, t| {
                d.add(t.clone()).map(|()| d)
            }),
    }
    .map_err(GatherError::Config)?;
    let mut targets = Vec::new();
    for (i, tenant) in config.tenants.iter().enumerate() {
        targets.push(configured(config, i, tenant, &directory).await);
    }
    if let Some(store) = store {
        for summary in store.list_installations().await? {
            if let Some(i) = store.installation(&summary.client_key).await? {
                targets.push(connect(config, i, &directory).await);
            }
        }
        for summary in store.list_forge_installations().await? {
            if let Some(i) = store.forge_installation(&summary.installation_id).await? {
                targets.push(forge(config, i, &directory).await);
            }
        }
    }
    match &options.tenant {
        None => Ok(targets),
        Some(wanted) => {
            targets.retain(|t| &t.id == wanted);
            match targets.is_empty() {
                true => Err(GatherError::UnknownTenant(wanted.clone())),
                false => Ok(targets),
            }
        }
    }
}

async fn configured(
    config: &Config,
    i: usize,
    tenant: &TenantConfig,
    dir: &TenantDirectory,
) -> Target {
    let key = format!("tenants[{i}]");
    let kind = match tenant.auth {
        TenantAuth::Basic { .. } => AuthKind::Basic,
        TenantAuth::Bearer { .. } => AuthKind::Bearer,
        TenantAuth::OauthClientCredentials { .. } => AuthKind::OAuth,
    };
    let fit = base_url_fit(kind, &tenant.base_url, &key);
    let mut members = Vec::new();
    let own = [
        (&tenant.service_desk_ids, "service_desk"),
        (&tenant.organization_ids, "organization"),
    ];
    for (ids, kind) in own {
        add_members(&mut members, kind, ids, &format!("{key}.{kind}_ids"));
    }
    add_source_members(&mut members, config, &[tenant.id.as_str()]);
    Target {
        jsm: dir
            .target(&tenant.id)
            .await
            .filter(|_| fit.status != super::Status::Fail),
        id: tenant.id.clone(),
        key,
        kind,
        offline: vec![fit],
        members,
    }
}

/// Does `base_url` suit how the tenant authenticates? OAuth and bearer tokens work only
/// through the API gateway, never at a site URL (SPEC §17 rule 4).
pub fn base_url_fit(kind: AuthKind, base_url: &str, key: &str) -> Verdict {
    const CHECK: &str = "base_url";
    let Ok(url) = Url::parse(base_url) else {
        return Verdict::fail(
            CHECK,
            format!("{base_url:?} is not a URL"),
            format!("correct `{key}.base_url`"),
        );
    };
    let site = is_site(&url);
    match kind {
        AuthKind::Bearer | AuthKind::OAuth if site => Verdict::fail(
            CHECK,
            format!(
                "{} at the site URL {base_url}: JSM answers 401 to OAuth tokens there",
                kind.name()
            ),
            format!(
                "set `{key}.base_url` to https://api.atlassian.com/ex/jira/{{cloudId}}; the site's cloudId \
                 is served at https://{}/_edge/tenant_info",
                url.host_str().unwrap_or("<site>")
            ),
        ),
        AuthKind::Bearer | AuthKind::OAuth if url.path().contains("/ex/jira/") => Verdict::ok(
            CHECK,
            format!("{} through the API gateway {base_url}", kind.name()),
        ),
        _ if site => Verdict::ok(CHECK, format!("{} at the site URL {base_url}", kind.name())),
        _ => Verdict::ok(CHECK, format!("{} at {base_url}", kind.name())),
    }
}

/// A Jira Cloud site host (`*.atlassian.net`, `*.jira.com`, `*.jira-dev.com`).
fn is_site(url: &Url) -> bool {
    !crate::config::validate::is_loopback(url)
        && crate::connect::base_hosts::is_allowed(
            url,
            &crate::connect::base_hosts::default_allowed(),
        )
}

async fn connect(config: &Config, i: crate::store::Installation, dir: &TenantDirectory) -> Target {
    let key = format!("installation {}", i.client_key);
    let allowed = crate::config::validate::check_https_or_loopback(&i.base_url).is_ok()
        && Url::parse(&i.base_url).is_ok_and(|u| {
            crate::connect::base_hosts::is_allowed(&u, &config.connect.allowed_base_hosts)
        });
    let fit = match allowed {
        true => Verdict::ok(
            "base_url",
            format!("Connect app at the site URL {}", i.base_url),
        ),
        false => Verdict::fail(
            "base_url",
            format!(
                "the installation's baseUrl {} is not on `connect.allowed_base_hosts`",
                i.base_url
            ),
            "add the site's host to `connect.allowed_base_hosts`, or uninstall the app from that site",
        ),
    };
    let stored = match (i.state, i.shared_secret.is_some()) {
        (InstallationState::Installed, true) => {
            Verdict::ok("credentials_stored", "installed; sharedSecret stored")
        }
        (InstallationState::Installed, false) => Verdict::fail(
            "credentials_stored",
            "installed but no sharedSecret is stored",
            "reinstall the app on the site so Jira sends a new installed callback",
        ),
        (InstallationState::Disabled, _) => Verdict::fail(
            "credentials_stored",
            "disabled in Jira: its signups wait and nothing is sent",
            "enable the app on the site (Apps → Manage apps)",
        ),
        (InstallationState::Uninstalled, _) => Verdict::warn(
            "credentials_stored",
            "uninstalled: nothing is sent to it and its sources' signups are refused (503)",
            "install the app again, or remove the sources that name this installation",
        ),
    };
    let callable = allowed && stored.status == super::Status::Ok;
    let mut members = Vec::new();
    add_source_members(
        &mut members,
        config,
        &[i.client_key.as_str(), i.base_url.as_str()],
    );
    Target {
        jsm: if callable {
            dir.target(&i.client_key).await
        } else {
            None
        },
        id: i.client_key,
        key,
        kind: AuthKind::Connect,
        offline: vec![fit, stored],
        members,
    }
}

async fn forge(
    config: &Config,
    i: crate::store::ForgeInstallation,
    dir: &TenantDirectory,
) -> Target {
    let fit = match crate::forge::fit::api_base_allowed(&config.forge.api_hosts, &i.api_base_url) {
        true => Verdict::ok("base_url", format!("Forge app through {}", i.api_base_url)),
        false => Verdict::fail(
            "base_url",
            format!(
                "the installation's apiBaseUrl {} is not on `forge.api_hosts`",
                i.api_base_url
            ),
            "add its host to `forge.api_hosts` if it is Atlassian's, else uninstall the app",
        ),
    };
    let now = now_ms();
    const WHY: &str = "Forge brings a token only with its calls (the installed event, the hourly \
         scheduled trigger): check the app is deployed with its scheduled trigger and that Forge \
         reaches the bridge at `server.public_url`";
    let stored = match (i.state, forge_wait_reason(&i, now)) {
        (ForgeState::Uninstalled, _) => Verdict::warn(
            "credentials_stored",
            "uninstalled: nothing is sent to it",
            "install the app again, or remove the sources that name this installation",
        ),
        (_, None) => {
            let exp = i.token_expires_at.unwrap_or(now);
            Verdict::ok(
                "credentials_stored",
                format!(
                    "installed; system token valid until {} ({} min left)",
                    rfc3339_ms(exp),
                    (exp - now) / 60_000
                ),
            )
        }
        (_, Some(WaitReason::TokenExpiring)) => {
            let exp = i.token_expires_at.unwrap_or(now);
            let detail = match exp <= now {
                true => format!(
                    "the system token expired at {}; signups wait",
                    rfc3339_ms(exp)
                ),
                false => format!(
                    "the system token expires at {} (within a minute); signups wait",
                    rfc3339_ms(exp)
                ),
            };
            Verdict::fail("credentials_stored", detail, WHY)
        }
        (_, Some(_)) => Verdict::fail(
            "credentials_stored",
            "no system token stored; signups wait",
            WHY,
        ),
    };
    let callable = fit.status == super::Status::Ok && stored.status == super::Status::Ok;
    let mut members = Vec::new();
    let refs = [
        Some(i.installation_id.as_str()),
        i.cloud_id.as_deref(),
        i.site_url.as_deref(),
    ];
    add_source_members(
        &mut members,
        config,
        &refs.into_iter().flatten().collect::<Vec<_>>(),
    );
    Target {
        jsm: if callable {
            dir.target(&i.installation_id).await
        } else {
            None
        },
        key: format!("installation {}", i.installation_id),
        id: i.installation_id,
        kind: AuthKind::Forge,
        offline: vec![fit, stored],
        members,
    }
}

fn add_members(members: &mut Vec<Member>, kind: &'static str, ids: &[IdOrKey], key: &str) {
    for id in ids.iter().map(ToString::to_string) {
        if !members.iter().any(|m| m.kind == kind && m.id == id) {
            members.push(Member {
                kind,
                id,
                key: key.to_string(),
            });
        }
    }
}

/// The desks and organizations of every source whose `tenant` names one of `names` (trailing
/// slashes ignored, as installation references are resolved).
fn add_source_members(members: &mut Vec<Member>, config: &Config, names: &[&str]) {
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    for (i, source) in config.sources.iter().enumerate() {
        if !names.iter().any(|n| same(n, &source.tenant)) {
            continue;
        }
        if let Some(ids) = &source.service_desk_ids {
            add_members(
                members,
                "service_desk",
                ids,
                &format!("sources[{i}].service_desk_ids"),
            );
        }
        if let Some(ids) = &source.organization_ids {
            add_members(
                members,
                "organization",
                ids,
                &format!("sources[{i}].organization_ids"),
            );
        }
    }
}
