//! `[forge]`: the Forge Remote app in front of the bridge (its FIT audience, where Forge's
//! signing keys are, which environments and API hosts are accepted) and its validation.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use url::Url;

use super::validate::{check_https_or_loopback, is_loopback};

/// Where Forge publishes the keys that sign Forge Invocation Tokens.
pub const DEFAULT_FORGE_JWKS_URL: &str =
    "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json";

/// The Forge Remote settings; an empty `app_id` leaves the `/forge/*` routes off.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForgeConfig {
    /// The app's ARI (`ari:cloud:ecosystem::app/<uuid>`): FIT `aud` and `app.id`.
    pub app_id: String,
    pub jwks_url: String,
    /// Allowed `app.environment.type` values (case-insensitive); empty allows every one.
    pub environments: Vec<String>,
    /// Hosts an `app.apiBaseUrl` may be on (https); loopback hosts always.
    pub api_hosts: Vec<String>,
    /// 403s this soon after an install are retried: permissions lag the install event.
    #[serde(with = "humantime_serde")]
    pub permission_grace: Duration,
}

impl Default for ForgeConfig {
    fn default() -> Self {
        Self {
            app_id: String::new(),
            jwks_url: DEFAULT_FORGE_JWKS_URL.into(),
            environments: Vec::new(),
            api_hosts: vec!["api.atlassian.com".into(), "api.stg.atlassian.com".into()],
            permission_grace: Duration::from_secs(15 * 60),
        }
    }
}

impl ForgeConfig {
    /// Whether the Forge routes are on.
    pub fn enabled(&self) -> bool {
        !self.app_id.is_empty()
    }

    /// Whether an installation's `app.apiBaseUrl` may be called: https on a `forge.api_hosts`
    /// host, or http/https on a loopback host, without user-info. Checked when a FIT brings it
    /// and again before every call to it (a stored URL may have been changed since).
    pub fn api_base_allowed(&self, raw: &str) -> bool {
        let Ok(url) = Url::parse(raw) else {
            return false;
        };
        if url.username() != "" || url.password().is_some() {
            return false;
        }
        match url.scheme() {
            "https" | "http" if is_loopback(&url) => true,
            "https" => url
                .host_str()
                .is_some_and(|host| self.api_hosts.iter().any(|h| h.eq_ignore_ascii_case(host))),
            _ => false,
        }
    }

    /// Check `[forge]`; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled() {
            return Ok(());
        }
        let app = self.app_id.strip_prefix("ari:cloud:ecosystem::app/");
        if app.is_none_or(|uuid| uuid::Uuid::parse_str(uuid).is_err()) {
            return Err(format!(
                "key `forge.app_id`: {:?} is not a Forge app ARI \
                 (ari:cloud:ecosystem::app/<uuid>, as `forge register` prints it)",
                self.app_id
            ));
        }
        check_https_or_loopback(&self.jwks_url)
            .map_err(|e| format!("key `forge.jwks_url`: {e}"))?;
        for (i, host) in self.api_hosts.iter().enumerate() {
            let plain = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !plain {
                return Err(format!(
                    "key `forge.api_hosts[{i}]`: {host:?} must be a bare host name"
                ));
            }
        }
        for (i, env) in self.environments.iter().enumerate() {
            if env.trim().is_empty() {
                return Err(format!("key `forge.environments[{i}]`: must not be empty"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000";

    #[test]
    fn forge_settings_are_checked_only_when_enabled() {
        assert!(ForgeConfig::default().validate().is_ok(), "off by default");
        let on = |tweak: fn(&mut ForgeConfig)| {
            let mut c = ForgeConfig {
                app_id: APP.into(),
                ..ForgeConfig::default()
            };
            tweak(&mut c);
            c.validate()
        };
        assert!(on(|_| {}).is_ok());
        assert!(on(|c| c.jwks_url = "http://127.0.0.1:9/jwks.json".into()).is_ok());
        type Case = (fn(&mut ForgeConfig), &'static str);
        let cases: [Case; 5] = [
            (|c| c.app_id = "my-app".into(), "forge.app_id"),
            (
                |c| c.app_id = "ari:cloud:ecosystem::app/nope".into(),
                "forge.app_id",
            ),
            (
                |c| c.jwks_url = "http://forge.example.com/jwks.json".into(),
                "forge.jwks_url",
            ),
            (
                |c| c.api_hosts = vec!["https://api.atlassian.com".into()],
                "forge.api_hosts[0]",
            ),
            (
                |c| c.environments = vec![" ".into()],
                "forge.environments[0]",
            ),
        ];
        for (tweak, key) in cases {
            let error = on(tweak).expect_err(key);
            assert!(error.contains(key), "{error}");
        }
    }
}
