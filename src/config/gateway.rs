//! Where OAuth 2.0 tokens may be sent (SPEC §17 rule 4). Published fact (Atlassian's OAuth 2.0
//! documentation, SPEC §17): OAuth 2.0 access tokens — 3LO and service-account client
//! credentials — are accepted only under `https://api.atlassian.com/ex/jira/{cloudId}`; a site
//! URL (`*.atlassian.net`, `*.jira.com`, `*.jira-dev.com`) answers 401 to them. A tenant that
//! sends one to a site would fail every call, so it is a config error naming the fix. A site's
//! cloudId is served at `https://{site}/_edge/tenant_info` as `{"cloudId": "…"}`.
//!
//! `api_gateway_url` (default `https://api.atlassian.com`) names the gateway; the check also
//! refuses a base URL on the gateway's host that is not `/ex/jira/{cloudId}` under it.

use url::Url;

use super::{TenantAuth, TenantConfig};

/// The default of `[[tenants]] api_gateway_url`.
pub const DEFAULT_API_GATEWAY_URL: &str = "https://api.atlassian.com";

/// Atlassian site hosts: a subdomain of one of these is a site, never the gateway.
const SITE_DOMAINS: &[&str] = &["atlassian.net", "jira.com", "jira-dev.com"];

pub(crate) fn default_api_gateway_url() -> String {
    DEFAULT_API_GATEWAY_URL.into()
}

/// Check one tenant (`key` = `tenants[i]`): its gateway URL is https (loopback excepted) and,
/// when it calls with OAuth 2.0 tokens, its base URL is `{api_gateway_url}/ex/jira/{cloudId}`.
pub fn check_tenant_gateway(key: &str, tenant: &TenantConfig) -> Result<(), String> {
    let gateway = super::validate::check_https_or_loopback(&tenant.api_gateway_url)
        .map_err(|e| format!("key `{key}.api_gateway_url`: {e}"))?;
    let kind = match &tenant.auth {
        TenantAuth::OauthClientCredentials { .. } => "oauth_client_credentials",
        TenantAuth::Bearer { .. } => "bearer",
        TenantAuth::Basic { .. } => return Ok(()),
    };
    let Ok(base) = Url::parse(&tenant.base_url) else {
        return Ok(()); // the https check names a malformed base_url
    };
    let gateway_root = tenant.api_gateway_url.trim_end_matches('/');
    let fix = format!(
        "use base_url = \"{gateway_root}/ex/jira/{{cloudId}}\"; a site's cloudId is the \
         \"cloudId\" served at https://{{site}}/_edge/tenant_info"
    );
    let host = base.host_str().unwrap_or_default().to_ascii_lowercase();
    let shown = super::redact_url(&tenant.base_url);
    if is_site_host(&host) {
        let fix = fix.replace("{site}", &host);
        return Err(format!(
            "key `{key}.base_url`: {shown:?} is a site URL, but auth type {kind} sends an OAuth \
             2.0 token, which Atlassian accepts only through its API gateway: {fix}"
        ));
    }
    if base.origin() == gateway.origin() && !under_gateway(&gateway, &base) {
        return Err(format!(
            "key `{key}.base_url`: {shown:?} is on the API gateway but not under \
             /ex/jira/{{cloudId}}: {fix}"
        ));
    }
    Ok(())
}

/// `*.atlassian.net`, `*.jira.com`, `*.jira-dev.com` (and the bare domains).
fn is_site_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    SITE_DOMAINS
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// `base`'s path is `{gateway path}/ex/jira/{cloudId}[/…]` with a non-empty cloudId.
fn under_gateway(gateway: &Url, base: &Url) -> bool {
    let prefix = format!("{}/ex/jira/", gateway.path().trim_end_matches('/'));
    base.path()
        .strip_prefix(&prefix)
        .and_then(|rest| rest.split('/').next())
        .is_some_and(|cloud_id| !cloud_id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn tenant(base_url: &str, auth: &str, gateway: &str) -> TenantConfig {
        let auth = match auth {
            "basic" => TenantAuth::Basic {
                email: "bot@acme.com".into(),
                api_token: Secret::new("t"),
            },
            "bearer" => TenantAuth::Bearer {
                token: Secret::new("t"),
            },
            _ => TenantAuth::OauthClientCredentials {
                client_id: "c".into(),
                client_secret: Secret::new("s"),
                token_url: "https://auth.atlassian.com/oauth/token".into(),
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
            api_gateway_url: gateway.into(),
        }
    }

    #[test]
    fn oauth_and_bearer_tokens_go_through_the_gateway_only() {
        let atlassian = DEFAULT_API_GATEWAY_URL;
        let sim = "http://127.0.0.1:4000";
        let cases = [
            (
                "https://acme.atlassian.net",
                "oauth",
                atlassian,
                Some("is a site URL"),
            ),
            (
                "https://acme.atlassian.net/",
                "bearer",
                atlassian,
                Some("is a site URL"),
            ),
            (
                "https://ACME.jira.com/jira",
                "oauth",
                atlassian,
                Some("is a site URL"),
            ),
            (
                "https://x.jira-dev.com",
                "bearer",
                atlassian,
                Some("is a site URL"),
            ),
            ("https://acme.atlassian.net", "basic", atlassian, None),
            (
                "https://api.atlassian.com/ex/jira/abc-123",
                "oauth",
                atlassian,
                None,
            ),
            (
                "https://api.atlassian.com/ex/jira/abc-123/",
                "bearer",
                atlassian,
                None,
            ),
            (
                "https://api.atlassian.com",
                "oauth",
                atlassian,
                Some("not under /ex/jira"),
            ),
            (
                "https://api.atlassian.com/ex/jira/",
                "oauth",
                atlassian,
                Some("not under"),
            ),
            ("https://jira.example.com", "oauth", atlassian, None),
            ("http://127.0.0.1:4000/ex/jira/c1", "oauth", sim, None),
            (
                "http://127.0.0.1:4000",
                "oauth",
                sim,
                Some("not under /ex/jira"),
            ),
            (
                "http://127.0.0.1:4000/jira",
                "bearer",
                sim,
                Some("not under /ex/jira"),
            ),
            ("http://127.0.0.1:4000", "basic", sim, None),
            (
                "https://acme.atlassian.net",
                "basic",
                "http://gw.example.com",
                Some("api_gateway_url"),
            ),
        ];
        for (base, auth, gateway, want) in cases {
            let got = check_tenant_gateway("tenants[0]", &tenant(base, auth, gateway));
            match (want, &got) {
                (None, Ok(())) => {}
                (Some(part), Err(e)) if e.contains(part) => {}
                _ => panic!("{base} {auth} {gateway}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn the_error_names_the_key_the_gateway_and_where_the_cloud_id_is() {
        let err = check_tenant_gateway(
            "tenants[2]",
            &tenant(
                "https://acme.atlassian.net",
                "oauth",
                DEFAULT_API_GATEWAY_URL,
            ),
        )
        .unwrap_err();
        assert!(err.starts_with("key `tenants[2].base_url`"), "{err}");
        assert!(err.contains("oauth_client_credentials"), "{err}");
        assert!(
            err.contains("https://api.atlassian.com/ex/jira/{cloudId}"),
            "{err}"
        );
        assert!(
            err.contains("https://acme.atlassian.net/_edge/tenant_info"),
            "{err}"
        );
    }
}
