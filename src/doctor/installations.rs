//! Connect and Forge installations as doctor targets: the stored credentials must be present,
//! unexpired and the installation `installed` before any call is made with them; the calls are
//! then made with the providers delivery uses (`TenantDirectory::target`). A source whose
//! `tenant` names no installation yet is reported too: its signups are refused until one exists.

use url::Url;

use super::access::AuthKind;
use super::targets::{Target, add_source_members};
use super::{Status, Verdict};
use crate::config::Config;
use crate::delivery::{TenantDirectory, WaitReason, forge_wait_reason};
use crate::domain::{now_ms, rfc3339_ms};
use crate::store::{ForgeInstallation, ForgeState, Installation, InstallationState, Store};

pub(super) async fn connect(config: &Config, i: Installation, dir: &TenantDirectory) -> Target {
    let key = format!("installation {}", i.client_key);
    let allowed = crate::config::validate::check_https_or_loopback(&i.base_url).is_ok()
        && Url::parse(&i.base_url).is_ok_and(|u| {
            crate::config::base_hosts::is_allowed(&u, &config.connect.allowed_base_hosts)
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
    let callable = allowed && stored.status == Status::Ok;
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

pub(super) async fn forge(config: &Config, i: ForgeInstallation, dir: &TenantDirectory) -> Target {
    let fit = match config.forge.api_base_allowed(&i.api_base_url) {
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
    let callable = fit.status == Status::Ok && stored.status == Status::Ok;
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

/// Sources whose `tenant` names no configured tenant and no installation (resolved as
/// delivery resolves it): valid config before the install, but their signups get 503.
pub(super) async fn unresolved_sources(
    config: &Config,
    store: Option<&Store>,
) -> Result<Vec<Target>, sqlx::Error> {
    let mut out: Vec<Target> = Vec::new();
    for (i, source) in config.sources.iter().enumerate() {
        let reference = source.tenant.as_str();
        if config.tenant(reference).is_some() || out.iter().any(|t| t.id == reference) {
            continue;
        }
        if let Some(store) = store
            && (store.installation_by_reference(reference).await?.is_some()
                || store
                    .forge_installation_by_reference(reference)
                    .await?
                    .is_some())
        {
            continue;
        }
        let finding = Verdict::warn(
            "installation",
            format!(
                "source `{}` sends to {reference:?}, which names no configured tenant and no \
                 installation yet: its signups are refused (503 tenant_unavailable) until the \
                 app is installed there",
                source.id
            ),
            format!(
                "install the app on that site (Connect or Forge), or correct `sources[{i}].tenant`"
            ),
        );
        out.push(Target {
            id: reference.to_string(),
            key: format!("sources[{i}]"),
            // An installation reference; no call is made (`jsm` is None).
            kind: AuthKind::Connect,
            offline: vec![finding],
            jsm: None,
            members: Vec::new(),
        });
    }
    Ok(out)
}
