//! `[console]`: the operator console (docs/CONSOLE.md). Data and the checks that need nothing
//! but the data; the console itself lives in `crate::console`.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Secret;

/// The shortest admin token accepted, in bytes as configured.
pub const MIN_ADMIN_TOKEN_BYTES: usize = 32;

/// `[console]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Serve `/console/` (default false; `serve --sandbox` turns it on).
    pub enabled: bool,
    /// Sign-in tokens, one per person (and more for rotation); the label names them in the
    /// audit log.
    pub admin_tokens: Vec<AdminToken>,
    /// A header carrying the user a trusted reverse proxy authenticated (e.g.
    /// `X-Forwarded-User`), believed only from `trusted_proxies`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_header: Option<String>,
    /// Peer addresses (IP addresses, exact) whose `trusted_header` is believed.
    pub trusted_proxies: Vec<String>,
    /// A session unused this long ends.
    #[serde(with = "humantime_serde")]
    pub session_idle: Duration,
    /// A session ends this long after sign-in, used or not.
    #[serde(with = "humantime_serde")]
    pub session_max: Duration,
    /// Audit log entries are purged after this.
    #[serde(with = "humantime_serde")]
    pub audit_retention: Duration,
}

/// One `admin_tokens` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminToken {
    pub label: String,
    pub token: Secret,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            admin_tokens: Vec::new(),
            trusted_header: None,
            trusted_proxies: Vec::new(),
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(12 * 3600),
            audit_retention: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

impl ConsoleConfig {
    /// The trusted proxies as addresses (validation made sure they parse).
    pub fn proxy_addresses(&self) -> Vec<IpAddr> {
        self.trusted_proxies
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// Check `[console]`; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        let mut labels = std::collections::HashSet::new();
        for (i, t) in self.admin_tokens.iter().enumerate() {
            let key = format!("key `console.admin_tokens[{i}]");
            let label = t.label.trim();
            if label.is_empty() || label.len() > 64 || label.chars().any(char::is_control) {
                return Err(format!(
                    "{key}.label`: 1 to 64 characters, no control characters"
                ));
            }
            if !labels.insert(label) {
                return Err(format!("{key}.label`: {label:?} is used twice"));
            }
            if t.token.expose().len() < MIN_ADMIN_TOKEN_BYTES {
                return Err(format!(
                    "{key}.token`: at least {MIN_ADMIN_TOKEN_BYTES} bytes (generate one with \
                     `openssl rand -base64 32`)"
                ));
            }
        }
        if let Some(header) = &self.trusted_header {
            let valid = !header.is_empty()
                && header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(
                    "key `console.trusted_header`: a header name, e.g. X-Forwarded-User".into(),
                );
            }
            if self.trusted_proxies.is_empty() {
                return Err(
                    "key `console.trusted_proxies`: required with console.trusted_header (the \
                     addresses of the proxies that set it)"
                        .into(),
                );
            }
        }
        for (i, proxy) in self.trusted_proxies.iter().enumerate() {
            proxy.parse::<IpAddr>().map_err(|_| {
                format!("key `console.trusted_proxies[{i}]`: {proxy:?} is not an IP address")
            })?;
        }
        if self.session_idle.is_zero() || self.session_max.is_zero() {
            return Err("key `console.session_idle`/`session_max`: must be more than 0".into());
        }
        if self.session_idle > self.session_max {
            return Err("key `console.session_idle`: must not exceed console.session_max".into());
        }
        if self.audit_retention.is_zero() {
            return Err("key `console.audit_retention`: must be more than 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(change: impl FnOnce(&mut ConsoleConfig)) -> Result<(), String> {
        let mut c = ConsoleConfig::default();
        change(&mut c);
        c.validate()
    }

    fn token(label: &str, token: &str) -> AdminToken {
        AdminToken {
            label: label.into(),
            token: Secret::new(token),
        }
    }

    type Change<'a> = Box<dyn FnOnce(&mut ConsoleConfig) + 'a>;

    #[test]
    fn console_keys_are_checked() {
        let long = "x".repeat(32);
        let cases: Vec<(&str, Change, Option<&str>)> = vec![
            ("defaults", Box::new(|_| {}), None),
            (
                "a 32-byte token",
                Box::new(|c| c.admin_tokens.push(token("alice", &long))),
                None,
            ),
            (
                "a short token",
                Box::new(|c| c.admin_tokens.push(token("alice", "short"))),
                Some("admin_tokens[0].token"),
            ),
            (
                "a label twice",
                Box::new(|c| {
                    c.admin_tokens.push(token("a", &"y".repeat(40)));
                    c.admin_tokens.push(token("a", &"z".repeat(40)));
                }),
                Some("admin_tokens[1].label"),
            ),
            (
                "a header without proxies",
                Box::new(|c| c.trusted_header = Some("X-Forwarded-User".into())),
                Some("trusted_proxies"),
            ),
            (
                "a proxy that is no address",
                Box::new(|c| c.trusted_proxies.push("proxy.local".into())),
                Some("trusted_proxies[0]"),
            ),
            (
                "idle above max",
                Box::new(|c| c.session_idle = Duration::from_secs(13 * 3600)),
                Some("session_idle"),
            ),
        ];
        for (name, change, want) in cases {
            let got = with(change);
            match want {
                None => assert_eq!(got, Ok(()), "{name}"),
                Some(key) => assert!(
                    got.as_ref().is_err_and(|e| e.contains(key)),
                    "{name}: {got:?}"
                ),
            }
        }
    }
}
