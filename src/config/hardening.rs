//! Hardening rules checked at load: value ranges that would otherwise misbehave at run time,
//! and the source rules that keep tokens meant for other apps (or guessable secrets) out.

use std::time::Duration;

use super::{Config, SourceConfig};

/// The shortest JWT HMAC secret accepted, in bytes as configured.
pub const MIN_HMAC_SECRET_BYTES: usize = 32;
/// The smallest non-zero `delivery.max_rate_per_tenant` (one call per 1000 s).
pub const MIN_RATE_PER_TENANT: f64 = 0.001;
/// Durations that make no sense above this are rejected.
pub const MAX_SHORT_DURATION: Duration = Duration::from_secs(24 * 3600);
/// A `retention` below this is accepted with a warning at start.
pub const SHORT_RETENTION: Duration = Duration::from_secs(3600);

impl Config {
    /// Ranges checked at load: rates, durations bounded by a day, retentions above zero.
    pub(super) fn validate_ranges(&self) -> Result<(), String> {
        let rate = self.delivery.max_rate_per_tenant;
        if !(rate == 0.0 || (rate.is_finite() && rate >= MIN_RATE_PER_TENANT)) {
            return Err(format!(
                "key `delivery.max_rate_per_tenant`: must be 0 (no pacing) or at least \
                 {MIN_RATE_PER_TENANT}, got {rate}"
            ));
        }
        for (key, value) in self.short_durations() {
            if value > MAX_SHORT_DURATION {
                return Err(format!(
                    "key `{key}`: {} is longer than a day; that makes no sense here",
                    humantime::format_duration(value)
                ));
            }
        }
        self.database.encryption_key_bytes()?;
        for (key, value) in [
            ("idempotency.retention", self.idempotency.retention),
            (
                "idempotency.failed_retention",
                self.idempotency.failed_retention,
            ),
        ] {
            if value.is_zero() {
                return Err(format!("key `{key}`: must be more than 0"));
            }
        }
        Ok(())
    }

    /// Every duration that is bounded by [`MAX_SHORT_DURATION`], with its key.
    pub fn short_durations(&self) -> [(&'static str, Duration); 7] {
        [
            ("delivery.inline_wait", self.delivery.inline_wait),
            (
                "server.client_request_timeout",
                self.server.client_request_timeout,
            ),
            ("server.request_timeout", self.server.request_timeout),
            ("delivery.request_timeout", self.delivery.request_timeout),
            ("delivery.backoff_base", self.delivery.backoff_base),
            ("delivery.backoff_max", self.delivery.backoff_max),
            ("auth.leeway", self.auth.leeway),
        ]
    }

    /// Settings accepted with a warning, logged once at start.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.idempotency.retention < SHORT_RETENTION {
            out.push(format!(
                "idempotency.retention is {}: a sender retrying after that creates a second \
                 signup (JSM then resolves it to the existing customer)",
                humantime::format_duration(self.idempotency.retention)
            ));
        }
        out.extend(self.database.transport_warning());
        out
    }
}

/// The hardening rules for one source: `audience` required with public keys, JWT HMAC secrets long enough.
pub(super) fn check_source_hardening(s: &SourceConfig, key: &str) -> Result<(), String> {
    let asymmetric =
        s.public_key_pem.is_some() || s.public_key_file.is_some() || s.jwks_url.is_some();
    if asymmetric && s.audience.as_deref().is_none_or(|a| a.trim().is_empty()) {
        return Err(format!(
            "key `{key}.audience`: required for a source with public_key_pem, public_key_file \
             or jwks_url (an identity provider also issues tokens for other apps)"
        ));
    }
    if !s.verify.is_jwt() {
        // Sender schemes have their own, shorter minimum (vendors issue those secrets).
        return Ok(());
    }
    let named = s.secret.iter().map(|v| (format!("{key}.secret"), v)).chain(
        s.secrets
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{key}.secrets[{i}]"), v)),
    );
    for (name, secret) in named {
        if secret.expose().len() < MIN_HMAC_SECRET_BYTES {
            return Err(format!(
                "key `{name}`: a JWT HMAC secret must be at least {MIN_HMAC_SECRET_BYTES} bytes"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "[[tenants]]\nid = \"t\"\nbase_url = \"https://api.atlassian.com/ex/jira/c1\"\n\
        auth = { type = \"bearer\", token = \"x\" }\n[[sources]]\nid = \"s\"\ntenant = \"t\"\n";
    const LONG: &str = "0123456789abcdef0123456789abcdef";

    fn check(toml: &str) -> Result<(), String> {
        let config: Config = toml::from_str(toml).map_err(|e| e.to_string())?;
        config.validate()
    }

    #[test]
    fn ranges_table() {
        let accepted = [
            "",
            "[delivery]\nmax_rate_per_tenant = 0",
            "[delivery]\nmax_rate_per_tenant = 0.001",
            "[delivery]\nmax_rate_per_tenant = 250.5",
            "[delivery]\ninline_wait = \"23h\"\n[server]\nrequest_timeout = \"24h\"",
            "[server]\nclient_request_timeout = \"24h\"",
            "[delivery]\nrequest_timeout = \"24h\"\nbackoff_base = \"24h\"\nbackoff_max = \"24h\"",
            "[idempotency]\nretention = \"1s\"\nfailed_retention = \"1s\"",
            "[idempotency]\nretention = \"3650d\"",
        ];
        for toml in accepted {
            assert_eq!(check(toml), Ok(()), "{toml}");
        }
        let rejected = [
            (
                "[delivery]\nmax_rate_per_tenant = 0.0009",
                "delivery.max_rate_per_tenant",
            ),
            (
                "[delivery]\nmax_rate_per_tenant = 1e-300",
                "delivery.max_rate_per_tenant",
            ),
            (
                "[delivery]\nmax_rate_per_tenant = -1.0",
                "delivery.max_rate_per_tenant",
            ),
            (
                "[delivery]\nmax_rate_per_tenant = nan",
                "delivery.max_rate_per_tenant",
            ),
            (
                "[delivery]\ninline_wait = \"25h\"\n[server]\nrequest_timeout = \"26h\"",
                "delivery.inline_wait",
            ),
            (
                "[delivery]\ninline_wait = \"1000000y\"",
                "server.request_timeout",
            ),
            (
                "[server]\nrequest_timeout = \"2d\"",
                "server.request_timeout",
            ),
            (
                "[server]\nclient_request_timeout = \"2d\"",
                "server.client_request_timeout",
            ),
            (
                "[delivery]\nrequest_timeout = \"2d\"",
                "delivery.request_timeout",
            ),
            (
                "[delivery]\nbackoff_base = \"2d\"\nbackoff_max = \"3d\"",
                "delivery.backoff_base",
            ),
            ("[delivery]\nbackoff_max = \"2d\"", "delivery.backoff_max"),
            ("[auth]\nleeway = \"2d\"", "auth.leeway"),
            ("[idempotency]\nretention = \"0s\"", "idempotency.retention"),
            (
                "[idempotency]\nfailed_retention = \"0s\"",
                "idempotency.failed_retention",
            ),
        ];
        for (toml, key) in rejected {
            let e = check(toml).expect_err(toml);
            assert!(e.contains(&format!("`{key}`")), "{toml}: {e}");
        }
    }

    #[test]
    fn short_retention_is_a_warning() {
        let config: Config = toml::from_str("[idempotency]\nretention = \"59m\"").unwrap();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.warnings().len(), 1, "{:?}", config.warnings());
        assert!(config.warnings()[0].contains("idempotency.retention"));
        let config: Config = toml::from_str("[idempotency]\nretention = \"1h\"").unwrap();
        assert!(config.warnings().is_empty());
    }

    #[test]
    fn source_rules_table() {
        let accepted = [
            format!("secret = \"{LONG}\""),
            format!("secrets = [\"{LONG}\", \"{LONG}x\"]"),
            "jwks_url = \"https://idp.example.com/jwks\"\naudience = \"bridge\"".to_string(),
            // Sender schemes take vendors' shorter secrets (their own 16-byte rule applies).
            format!("verify = \"typeform\"\nsecret = \"{}\"", &LONG[..20]),
        ];
        for extra in accepted {
            assert_eq!(check(&format!("{SOURCE}{extra}")), Ok(()), "{extra}");
        }
        let short = &LONG[..31];
        let rejected = [
            (format!("secret = \"{short}\""), "sources[0].secret"),
            (
                format!("secrets = [\"{LONG}\", \"{short}\"]"),
                "sources[0].secrets[1]",
            ),
            (
                "jwks_url = \"https://idp.example.com/jwks\"".to_string(),
                "sources[0].audience",
            ),
            (
                "jwks_url = \"https://idp.example.com/jwks\"\naudience = \" \"".to_string(),
                "sources[0].audience",
            ),
            (
                "public_key_pem = \"-----BEGIN PUBLIC KEY-----\"".to_string(),
                "sources[0].audience",
            ),
        ];
        for (extra, key) in rejected {
            let e = check(&format!("{SOURCE}{extra}")).expect_err(&extra);
            assert!(e.contains(&format!("`{key}`")), "{extra}: {e}");
        }
    }

    #[test]
    fn encryption_keys_are_32_bytes_of_base64() {
        use std::path::Path;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        let load = |text: &str, value: &str| {
            std::fs::write(&path, text).unwrap();
            let value = value.to_string();
            super::super::load_from_env(Some(Path::new(&path)), &move |name| {
                (name == "BRIDGE_KEY").then(|| value.clone())
            })
            .map(|c| c.database.encryption_key.is_some())
            .map_err(|e| e.to_string())
        };
        let from_env = "[database]\nencryption_key = \"${BRIDGE_KEY}\"\n";
        let good = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        assert_eq!(load(from_env, good), Ok(true));
        for bad in ["", "c2hvcnQ=", "not base64", &format!("{good}AAAA")] {
            let e = load(from_env, bad).expect_err(bad);
            assert!(e.contains("database.encryption_key"), "{bad}: {e}");
        }
        let inline = format!("[database]\nencryption_key = \"{good}\"\n");
        let e = load(&inline, good).expect_err("a key in the file itself");
        assert!(
            e.contains("database.encryption_key") && e.contains("ENV"),
            "{e}"
        );
    }
}
