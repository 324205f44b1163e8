//! What doctor checks: every `[[tenants]]` entry and every Connect and Forge installation in
//! the database, each with the checks that need no network (does the base URL fit the auth
//! type; are an installation's stored credentials present and unexpired) and, when those pass,
//! the JSM target made exactly as delivery makes it (`TenantDirectory`).

use url::Url;

use super::access::AuthKind;
use super::checks::Member;
use super::{Status, Verdict};
use crate::config::{Config, IdOrKey, OrganizationRule, TenantAuth, TenantConfig, WelcomeRequest};
use crate::delivery::TenantDirectory;
use crate::jsm::JsmTarget;
use crate::store::Store;

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
                targets.push(super::installations::connect(config, i, &directory).await);
            }
        }
        for summary in store.list_forge_installations().await? {
            if let Some(i) = store.forge_installation(&summary.installation_id).await? {
                targets.push(super::installations::forge(config, i, &directory).await);
            }
        }
    }
    targets.extend(super::installations::unresolved_sources(config, store).await?);
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
    let fit = base_url_fit(kind, tenant, &key);
    let mut members = Vec::new();
    let own = [
        (&tenant.service_desk_ids, "service_desk"),
        (&tenant.organization_ids, "organization"),
    ];
    for (ids, kind) in own {
        add_members(&mut members, kind, ids, &format!("{key}.{kind}_ids"));
    }
    add_rule_members(&mut members, &tenant.organization_rules, &key);
    add_welcome(&mut members, tenant.welcome_request.as_ref(), &key);
    add_source_members(&mut members, config, &[tenant.id.as_str()]);
    Target {
        jsm: dir
            .target(&tenant.id)
            .await
            .filter(|_| fit.status != Status::Fail),
        id: tenant.id.clone(),
        key,
        kind,
        offline: vec![fit],
        members,
    }
}

/// Does `base_url` suit how the tenant authenticates? OAuth and bearer tokens work only
/// through the API gateway, never at a site URL (SPEC §17 rule 4): the config's own rule
/// (`config::gateway`), so doctor and config load can never disagree.
pub fn base_url_fit(kind: AuthKind, tenant: &TenantConfig, key: &str) -> Verdict {
    const CHECK: &str = "base_url";
    if let Err(e) = crate::config::gateway::check_tenant_gateway(key, tenant) {
        // The rule's message ends with the fix: "…: use base_url = …".
        return match e.split_once(": use ") {
            Some((finding, fix)) => Verdict::fail(CHECK, finding, format!("use {fix}")),
            None => Verdict::fail(CHECK, e, format!("correct `{key}.base_url`")),
        };
    }
    let shown = crate::config::redact_url(&tenant.base_url);
    match Url::parse(&tenant.base_url) {
        Ok(url) if url.path().contains("/ex/jira/") => Verdict::ok(
            CHECK,
            format!("{} through the API gateway {shown}", kind.name()),
        ),
        _ => Verdict::ok(CHECK, format!("{} at {shown}", kind.name())),
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
pub(super) fn add_source_members(members: &mut Vec<Member>, config: &Config, names: &[&str]) {
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
        if let Some(rules) = &source.organization_rules {
            add_rule_members(members, rules, &format!("sources[{i}]"));
        }
        add_welcome(
            members,
            source.welcome_request.as_ref(),
            &format!("sources[{i}]"),
        );
    }
}

/// The welcome request's desk and request type (`request_type`, id `<desk>:<request type>`).
fn add_welcome(members: &mut Vec<Member>, welcome: Option<&WelcomeRequest>, key: &str) {
    let Some(w) = welcome else {
        return;
    };
    let key = format!("{key}.welcome_request");
    add_members(
        members,
        "service_desk",
        std::slice::from_ref(&w.service_desk_id),
        &format!("{key}.service_desk_id"),
    );
    let id = format!("{}:{}", w.service_desk_id, w.request_type_id);
    if !members
        .iter()
        .any(|m| m.kind == "request_type" && m.id == id)
    {
        members.push(Member {
            kind: "request_type",
            id,
            key: format!("{key}.request_type_id"),
        });
    }
}

/// The organizations of domain rules, each named by its rule's key.
fn add_rule_members(members: &mut Vec<Member>, rules: &[OrganizationRule], key: &str) {
    for (r, rule) in rules.iter().enumerate() {
        let key = format!("{key}.organization_rules[{r}].organization_ids");
        add_members(members, "organization", &rule.organization_ids, &key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn tenant(base_url: &str, oauth: bool) -> TenantConfig {
        let auth = match oauth {
            true => TenantAuth::OauthClientCredentials {
                client_id: "c".into(),
                client_secret: Secret::new("s"),
                token_url: "https://auth.atlassian.com/oauth/token".into(),
            },
            false => TenantAuth::Basic {
                email: "bot@acme.com".into(),
                api_token: Secret::new("t"),
            },
        };
        TenantConfig {
            id: "acme".into(),
            base_url: base_url.into(),
            auth,
            service_desk_ids: vec![],
            organization_ids: vec![],
            organization_rules: Vec::new(),
            welcome_request: None,
            api_gateway_url: crate::config::gateway::DEFAULT_API_GATEWAY_URL.into(),
        }
    }

    #[test]
    fn domain_rules_organizations_are_checked_too() {
        let mut members = Vec::new();
        let rules = [crate::config::OrganizationRule {
            domain: "acme.com".into(),
            organization_ids: vec![IdOrKey::Number(12)],
        }];
        add_rule_members(&mut members, &rules, "tenants[0]");
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].id, "12");
        assert_eq!(
            members[0].key,
            "tenants[0].organization_rules[0].organization_ids"
        );
    }

    #[test]
    fn the_base_url_must_fit_the_auth_type() {
        let cases = [
            (
                "https://acme.atlassian.net",
                false,
                Status::Ok,
                "at https://acme.atlassian.net",
            ),
            (
                "https://api.atlassian.com/ex/jira/c-1",
                true,
                Status::Ok,
                "through the API gateway",
            ),
            (
                "https://acme.atlassian.net",
                true,
                Status::Fail,
                "is a site URL",
            ),
            (
                "https://api.atlassian.com",
                true,
                Status::Fail,
                "not under /ex/jira",
            ),
        ];
        for (url, oauth, status, text) in cases {
            let kind = if oauth {
                AuthKind::OAuth
            } else {
                AuthKind::Basic
            };
            let v = base_url_fit(kind, &tenant(url, oauth), "tenants[0]");
            assert_eq!(v.status, status, "{url}");
            assert!(v.detail.contains(text), "{url}: {}", v.detail);
            if status == Status::Fail {
                let fix = v.fix.unwrap();
                assert!(
                    fix.contains("/ex/jira/{cloudId}") && fix.contains("tenant_info"),
                    "{fix}"
                );
            }
        }
    }
}
