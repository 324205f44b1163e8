//! `[database]`: which backend a URL names, the PostgreSQL pool settings, the at-rest key, and
//! the transport rule for PostgreSQL (verified TLS to anything but loopback). The parsers live
//! here, below every module that uses them, so `config/` needs nothing from `store/`.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use url::Url;

use super::Secret;

/// Which database a store runs on, from its URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The statement timeouts `database.statement_timeout` accepts besides 0 (none): a config
/// range, not a measured time.
const STATEMENT_TIMEOUTS: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(100)..=Duration::from_secs(86_400);

impl Backend {
    /// The backend a `database.url` names, if any.
    pub fn of_url(url: &str) -> Option<Self> {
        match url.split(':').next().unwrap_or_default() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }
}

/// Pool settings (`[database]`): PostgreSQL only; SQLite keeps one writer and four readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Connections per instance.
    pub max_connections: u32,
    /// Server-side bound on one statement; zero for none.
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            statement_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
    /// Base64 of 32 bytes, from `${ENV}`: stored secrets are encrypted with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<Secret>,
    /// PostgreSQL pool size per instance (SQLite ignores it).
    pub max_connections: u32,
    /// PostgreSQL `statement_timeout` of every connection; zero for none (SQLite ignores it).
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
    /// Accept `sslmode=disable` to a PostgreSQL host that is not loopback.
    pub allow_plaintext: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        let pool = PoolSettings::default();
        Self {
            url: "sqlite://signup-bridge.db".into(),
            encryption_key: None,
            max_connections: pool.max_connections,
            statement_timeout: pool.statement_timeout,
            allow_plaintext: false,
        }
    }
}

impl DatabaseConfig {
    /// The pool settings of `[database]`.
    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.max_connections,
            statement_timeout: self.statement_timeout,
        }
    }

    /// The 32 bytes of `encryption_key`, if one is set; the error names the key.
    pub fn encryption_key_bytes(&self) -> Result<Option<[u8; 32]>, String> {
        self.encryption_key
            .as_ref()
            .map(|k| decode_encryption_key(k.expose()))
            .transpose()
            .map_err(|e| format!("key `database.encryption_key`: {e}"))
    }

    /// `sqlite:` (embedded, one process) or `postgres:` / `postgresql:` (several instances),
    /// the PostgreSQL pool settings in range, and no plaintext to a remote PostgreSQL.
    pub(super) fn validate(&self) -> Result<(), String> {
        let Some(backend) = Backend::of_url(&self.url) else {
            let scheme = self.url.split(':').next().unwrap_or_default();
            return Err(format!(
                "key `database.url`: must be a sqlite:, postgres: or postgresql: URL, got {scheme:?}"
            ));
        };
        if !(1..=1000).contains(&self.max_connections) {
            return Err("key `database.max_connections`: must be between 1 and 1000".into());
        }
        let timeout = self.statement_timeout;
        if !timeout.is_zero() && !STATEMENT_TIMEOUTS.contains(&timeout) {
            return Err(
                "key `database.statement_timeout`: must be 0s (none) or between 100ms and 1 day"
                    .into(),
            );
        }
        if backend == Backend::Postgres
            && let Some(t) = postgres_transport(&self.url)
            && t.mode == "disable"
            && !t.local
            && !self.allow_plaintext
        {
            return Err(format!(
                "key `database.url`: sslmode=disable to {} sends the database password and every \
                 stored signup in plaintext; use sslmode=verify-full (or set \
                 database.allow_plaintext = true on a network you trust)",
                t.host
            ));
        }
        Ok(())
    }

    /// The warning for a PostgreSQL connection whose server is not verified, if any.
    pub(super) fn transport_warning(&self) -> Option<String> {
        if Backend::of_url(&self.url) != Some(Backend::Postgres) {
            return None;
        }
        let t = postgres_transport(&self.url)?;
        if t.local || t.mode == "verify-full" || t.mode == "verify-ca" {
            return None;
        }
        Some(format!(
            "database.url connects to PostgreSQL at {} with sslmode={}: the server's certificate \
             is not verified{}, so anyone on the network path can read or change stored signups \
             and secrets; use sslmode=verify-full",
            t.host,
            t.mode,
            if matches!(t.mode.as_str(), "require") {
                ""
            } else {
                " and the connection may not be encrypted at all"
            }
        ))
    }
}

/// The configured at-rest key: standard base64 of exactly 32 bytes.
pub fn decode_encryption_key(key: &str) -> Result<[u8; 32], String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .map_err(|_| "must be base64 (e.g. `openssl rand -base64 32`)".to_string())?;
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| format!("must decode to 32 bytes, got {len} (e.g. `openssl rand -base64 32`)"))
}

/// Where a PostgreSQL URL connects and how: its host, whether that is loopback or a local
/// socket, and its `sslmode` (sqlx's default, `prefer`, when not given).
struct Transport {
    host: String,
    local: bool,
    mode: String,
}

fn postgres_transport(raw: &str) -> Option<Transport> {
    let url = Url::parse(raw).ok()?;
    let query = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let mode = query("sslmode").unwrap_or_else(|| "prefer".into());
    // A `host` parameter overrides the URL's host (a socket directory starts with '/').
    let host = query("host").unwrap_or_else(|| url.host_str().unwrap_or_default().to_string());
    let local = host.is_empty()
        || host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    Some(Transport {
        host: if host.is_empty() {
            "a local socket".into()
        } else {
            host
        },
        local,
        mode: mode.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(url: &str, allow_plaintext: bool) -> DatabaseConfig {
        DatabaseConfig {
            url: url.into(),
            allow_plaintext,
            ..DatabaseConfig::default()
        }
    }

    #[test]
    fn postgres_transport_table() {
        // (url, accepted without allow_plaintext, warns)
        let cases = [
            ("sqlite://bridge.db", true, false),
            ("postgres://u:p@127.0.0.1:5432/db", true, false),
            ("postgres://u@localhost/db?sslmode=disable", true, false),
            ("postgres://u@[::1]/db?sslmode=disable", true, false),
            ("postgres:///db?host=/var/run/postgresql", true, false),
            (
                "postgres://u@db.example.com/db?sslmode=verify-full",
                true,
                false,
            ),
            (
                "postgres://u@db.example.com/db?sslmode=verify-ca",
                true,
                false,
            ),
            ("postgres://u@db.example.com/db", true, true),
            ("postgres://u@db.example.com/db?sslmode=require", true, true),
            ("postgresql://u@10.0.0.5/db?sslmode=prefer", true, true),
            (
                "postgres://u@db.example.com/db?sslmode=disable",
                false,
                true,
            ),
            (
                "postgres://u@127.0.0.1/db?host=db.example.com&sslmode=disable",
                false,
                true,
            ),
        ];
        for (url, accepted, warns) in cases {
            let got = database(url, false).validate();
            assert_eq!(got.is_ok(), accepted, "{url}: {got:?}");
            if let Err(e) = got {
                assert!(
                    e.contains("database.url") && e.contains("allow_plaintext"),
                    "{e}"
                );
                assert!(!e.contains("u@") && !e.contains(":p@"), "{e}");
            }
            let warning = database(url, false).transport_warning();
            assert_eq!(warning.is_some(), warns, "{url}: {warning:?}");
            if let Some(w) = warning {
                assert!(
                    w.contains("sslmode=verify-full") && w.contains("not verified"),
                    "{w}"
                );
            }
        }
        let allowed = database("postgres://u@db.example.com/db?sslmode=disable", true);
        assert_eq!(allowed.validate(), Ok(()));
        assert!(allowed.transport_warning().is_some(), "still warned");
    }

    #[test]
    fn encryption_keys_decode_to_32_bytes() {
        let good = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        assert_eq!(decode_encryption_key(good).map(|k| k.len()), Ok(32));
        for bad in ["", "c2hvcnQ=", "not base64"] {
            assert!(decode_encryption_key(bad).is_err(), "{bad}");
        }
    }
}
