//! Whole-config validation, run once at load so a bad setting stops start-up with its key named.

use std::collections::HashSet;
use std::net::SocketAddr;

use url::Url;

use super::{Config, SourceConfig, TenantAuth};

/// The largest `server.max_body_bytes` accepted (10 MiB).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// The largest `server.max_intake_in_flight` and `delivery.max_inline_waiters` accepted: far
/// above what one process serves, low enough that a typo is caught.
pub const MAX_IN_FLIGHT: u32 = 1_000_000;

impl Config {
    /// Check the configuration as a whole; the error names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        self.server
            .listen
            .parse::<SocketAddr>()
            .map_err(|e| format!("key `server.listen`: {e} (want e.g. \"127.0.0.1:8080\")"))?;
        // Unset, public_url is the bound address (local use); set, Atlassian sends secrets to it.
        if let Some(public) = &self.server.public_url {
            check_https_or_loopback(public).map_err(|e| format!("key `server.public_url`: {e}"))?;
        }
        if self.server.request_timeout <= self.delivery.inline_wait {
            return Err(
                "key `server.request_timeout`: must be longer than delivery.inline_wait, or \
                 intake would time out while it waits for JSM"
                    .into(),
            );
        }
        if self.server.max_body_bytes == 0 {
            return Err("key `server.max_body_bytes`: must be at least 1".into());
        }
        if self.server.max_body_bytes > MAX_BODY_BYTES {
            return Err(format!(
                "key `server.max_body_bytes`: must be at most {MAX_BODY_BYTES} (10 MiB); a signup \
                 body is a few KiB and every request holds its body in memory"
            ));
        }
        check_in_flight(
            "server.max_intake_in_flight",
            self.server.max_intake_in_flight,
        )?;
        self.database.validate()?;
        check_app_key(&self.connect.app_key)?;
        check_https_or_loopback(&self.connect.install_keys_url)
            .map_err(|e| format!("key `connect.install_keys_url`: {e}"))?;
        for (i, pattern) in self.connect.allowed_base_hosts.iter().enumerate() {
            super::base_hosts::check_pattern(pattern)
                .map_err(|e| format!("key `connect.allowed_base_hosts[{i}]`: {e}"))?;
        }
        if self.auth.max_token_lifetime.is_zero() {
            return Err("key `auth.max_token_lifetime`: must be more than 0".into());
        }
        self.forge.validate()?;
        self.console.validate()?;
        self.telemetry.validate(&|name| std::env::var(name).ok())?;
        self.validate_delivery()?;
        self.validate_ranges()?;
        self.validate_tenants()?;
        self.validate_sources()
    }

    fn validate_delivery(&self) -> Result<(), String> {
        let d = &self.delivery;
        if d.max_attempts == 0 {
            return Err("key `delivery.max_attempts`: must be at least 1".into());
        }
        check_in_flight("delivery.max_inline_waiters", d.max_inline_waiters)?;
        if d.concurrency_per_tenant == 0 {
            return Err("key `delivery.concurrency_per_tenant`: must be at least 1".into());
        }
        if d.request_timeout.is_zero() {
            return Err("key `delivery.request_timeout`: must be more than 0".into());
        }
        if d.backoff_base.is_zero() || d.backoff_base > d.backoff_max {
            return Err(
                "key `delivery.backoff_base`: must be more than 0 and at most backoff_max".into(),
            );
        }
        if !d.max_rate_per_tenant.is_finite() || d.max_rate_per_tenant < 0.0 {
            return Err(
                "key `delivery.max_rate_per_tenant`: must be 0 or a positive number".into(),
            );
        }
        Ok(())
    }

    fn validate_tenants(&self) -> Result<(), String> {
        let mut ids = HashSet::new();
        for (i, t) in self.tenants.iter().enumerate() {
            let key = format!("tenants[{i}]");
            if t.id.trim().is_empty() {
                return Err(format!("key `{key}.id`: must not be empty"));
            }
            if !ids.insert(t.id.as_str()) {
                return Err(format!("key `{key}.id`: duplicate tenant id {:?}", t.id));
            }
            check_https_or_loopback(&t.base_url)
                .map_err(|e| format!("key `{key}.base_url`: {e}"))?;
            super::gateway::check_tenant_gateway(&key, t)?;
            check_rules(&t.organization_rules, &format!("{key}.organization_rules"))?;
            if let Some(welcome) = &t.welcome_request {
                welcome.validate(&format!("{key}.welcome_request"))?;
            }
            if let TenantAuth::OauthClientCredentials { token_url, .. } = &t.auth {
                check_https_or_loopback(token_url)
                    .map_err(|e| format!("key `{key}.auth.token_url`: {e}"))?;
            }
        }
        Ok(())
    }

    fn validate_sources(&self) -> Result<(), String> {
        let mut ids = HashSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            let key = format!("sources[{i}]");
            if s.id.trim().is_empty() {
                return Err(format!("key `{key}.id`: must not be empty"));
            }
            if !ids.insert(s.id.as_str()) {
                return Err(format!("key `{key}.id`: duplicate source id {:?}", s.id));
            }
            if s.tenant.trim().is_empty() {
                return Err(format!("key `{key}.tenant`: must not be empty"));
            }
            super::validate_sender(s, &key)?;
            check_source_keys(s).map_err(|e| format!("key `{key}`: {e}"))?;
            super::hardening::check_source_hardening(s, &key)?;
            check_domains(
                &s.allowed_email_domains,
                &format!("{key}.allowed_email_domains"),
            )?;
            check_domains(
                &s.blocked_email_domains,
                &format!("{key}.blocked_email_domains"),
            )?;
            if let Some(rules) = &s.organization_rules {
                check_rules(rules, &format!("{key}.organization_rules"))?;
            }
            if let Some(welcome) = &s.welcome_request {
                welcome.validate(&format!("{key}.welcome_request"))?;
            }
            if let Some(url) = &s.jwks_url {
                check_https_or_loopback(url).map_err(|e| format!("key `{key}.jwks_url`: {e}"))?;
            }
            if let Some(limit) = &s.rate_limit
                && (limit.requests_per_second.is_nan()
                    || limit.requests_per_second <= 0.0
                    || limit.burst == 0)
            {
                return Err(format!(
                    "key `{key}.rate_limit`: requests_per_second and burst must be more than 0"
                ));
            }
        }
        Ok(())
    }
}

/// Email-domain patterns: a domain, or `*.` followed by one.
fn check_domains(patterns: &[String], key: &str) -> Result<(), String> {
    for (i, pattern) in patterns.iter().enumerate() {
        super::base_hosts::check_pattern(pattern).map_err(|e| format!("key `{key}[{i}]`: {e}"))?;
    }
    Ok(())
}

/// Domain rules: a valid pattern each, at least one organization, no pattern twice (which of
/// two equal rules wins would be an accident of order).
fn check_rules(rules: &[super::OrganizationRule], key: &str) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (i, rule) in rules.iter().enumerate() {
        super::base_hosts::check_pattern(&rule.domain)
            .map_err(|e| format!("key `{key}[{i}].domain`: {e}"))?;
        if !seen.insert(rule.domain.to_ascii_lowercase()) {
            return Err(format!(
                "key `{key}[{i}].domain`: {:?} has a rule already",
                rule.domain
            ));
        }
        if rule.organization_ids.is_empty() {
            return Err(format!(
                "key `{key}[{i}].organization_ids`: must name at least one organization"
            ));
        }
    }
    Ok(())
}

fn check_source_keys(s: &SourceConfig) -> Result<(), String> {
    let kinds = [
        s.secret.is_some() || !s.secrets.is_empty(),
        s.public_key_pem.is_some(),
        s.public_key_file.is_some(),
        s.jwks_url.is_some(),
    ];
    match kinds.iter().filter(|k| **k).count() {
        1 => Ok(()),
        0 => Err("needs one of secret, secrets, public_key_pem, public_key_file, jwks_url".into()),
        _ => Err(
            "give only one kind of key: secret/secrets, public_key_pem, public_key_file or jwks_url"
                .into(),
        ),
    }
}

/// Connect app keys: `^[a-zA-Z0-9-._]+$`, at most 80 characters.
fn check_app_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 80
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "key `connect.app_key`: {key:?} must match ^[a-zA-Z0-9-._]+$ and be at most 80 characters"
        ))
    }
}

/// A bound on requests in flight: at least 1 (0 would refuse everything), at most
/// [`MAX_IN_FLIGHT`].
fn check_in_flight(key: &str, value: u32) -> Result<(), String> {
    if value == 0 || value > MAX_IN_FLIGHT {
        return Err(format!(
            "key `{key}`: must be from 1 to {MAX_IN_FLIGHT}; it bounds the requests this \
             instance holds at once"
        ));
    }
    Ok(())
}

/// A URL the bridge may send credentials to: https, or http to a loopback host.
pub fn check_https_or_loopback(raw: &str) -> Result<Url, String> {
    let shown = super::redact_url(raw);
    let url = Url::parse(raw).map_err(|e| format!("{shown:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(format!(
            "{shown:?} must be https (http only for loopback hosts)"
        )),
    }
}

/// 127.0.0.0/8, ::1 or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(change: impl FnOnce(&mut Config)) -> Result<(), String> {
        let mut config = Config::default();
        change(&mut config);
        config.validate()
    }

    #[test]
    fn install_keys_url_is_https_except_loopback() {
        for ok in [
            "https://connect-install-keys.atlassian.com",
            "http://127.0.0.1:9000",
            "http://localhost:9000/keys",
            "http://[::1]:9000",
        ] {
            assert_eq!(
                with(|c| c.connect.install_keys_url = ok.into()),
                Ok(()),
                "{ok}"
            );
        }
        for bad in [
            "http://connect-install-keys.atlassian.com",
            "ftp://127.0.0.1",
            "not a url",
        ] {
            let error = with(|c| c.connect.install_keys_url = bad.into()).unwrap_err();
            assert!(error.contains("connect.install_keys_url"), "{error}");
        }
    }

    #[test]
    fn a_configured_public_url_is_https_except_loopback() {
        for ok in [
            "https://bridge.example.com",
            "https://bridge.example.com/connect/",
            "http://127.0.0.1:8080",
            "http://localhost:8080",
        ] {
            assert_eq!(
                with(|c| c.server.public_url = Some(ok.into())),
                Ok(()),
                "{ok}"
            );
        }
        for bad in [
            "http://bridge.example.com",
            "http://10.0.0.5:8080",
            "ws://localhost",
        ] {
            let error = with(|c| c.server.public_url = Some(bad.into())).unwrap_err();
            assert!(error.contains("server.public_url"), "{error}");
        }
        assert_eq!(with(|c| c.server.public_url = None), Ok(()));
    }

    #[test]
    fn database_url_is_sqlite_or_postgres_and_pool_settings_are_in_range() {
        for (url, error) in [
            ("sqlite://signup-bridge.db", None),
            ("sqlite:bridge.db", None),
            ("postgres://u:p@db/bridge", None),
            ("postgresql://db/bridge", None),
            ("mysql://db/bridge", Some("must be a sqlite:, postgres:")),
            ("signup-bridge.db", Some("must be a sqlite:, postgres:")),
        ] {
            let got = with(|c| c.database.url = url.into());
            match error {
                None => assert_eq!(got, Ok(()), "{url}"),
                Some(text) => {
                    let got = got.unwrap_err();
                    assert!(
                        got.contains("database.url") && got.contains(text),
                        "{url}: {got}"
                    );
                }
            }
        }
        for n in [0, 1001] {
            let error = with(|c| c.database.max_connections = n).unwrap_err();
            assert!(error.contains("database.max_connections"), "{error}");
        }
        assert_eq!(with(|c| c.database.max_connections = 1), Ok(()));
        for ms in [1, 99, 86_400_001] {
            let timeout = std::time::Duration::from_millis(ms);
            let error = with(|c| c.database.statement_timeout = timeout).unwrap_err();
            assert!(error.contains("database.statement_timeout"), "{error}");
        }
        for ms in [0, 100, 86_400_000] {
            let timeout = std::time::Duration::from_millis(ms);
            assert_eq!(with(|c| c.database.statement_timeout = timeout), Ok(()));
        }
    }

    #[test]
    fn allowed_base_hosts_are_host_patterns() {
        assert_eq!(with(|c| c.connect.allowed_base_hosts = vec![]), Ok(()));
        let ok = vec![
            "*.atlassian.net".to_string(),
            "jira.example.com".to_string(),
        ];
        assert_eq!(with(|c| c.connect.allowed_base_hosts = ok), Ok(()));
        let error =
            with(|c| c.connect.allowed_base_hosts = vec!["https://x.com".into()]).unwrap_err();
        assert!(error.contains("connect.allowed_base_hosts[0]"), "{error}");
    }
}
