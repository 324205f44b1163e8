//! Configuration: the whole schema of docs/CONFIGURATION.md, loaded from TOML with `${ENV}` substitution and
//! explicitly mapped environment overrides, then validated as a whole.
//!
//! Every struct denies unknown keys so a typo is an error, never a silently ignored setting.

pub mod base_hosts;
mod console;
mod database;
mod forge;
pub mod gateway;
mod hardening;
#[cfg(test)]
mod limits_tests;
mod load;
mod redact;
mod report;
mod secret;
mod sender;
mod telemetry;
pub mod validate;
mod welcome;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use console::{AdminToken, ConsoleConfig};
pub use database::{Backend, DatabaseConfig, PoolSettings, decode_encryption_key};
pub use forge::{DEFAULT_FORGE_JWKS_URL, ForgeConfig};
pub use load::{ConfigError, error_at, load, load_from_env, load_from_text};
pub use redact::{redact_database_url, redact_url};
pub use secret::Secret;
pub use sender::{
    DEFAULT_TOLERANCE, FieldsConfig, VerifyScheme, compile_path, standard_webhooks_key,
    validate_sender,
};
pub use telemetry::{OTLP_ENDPOINT_ENV, TelemetryConfig};
pub use welcome::{MAX_SUMMARY_CHARS, WelcomeRequest, WelcomeText};

/// The effective configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub connect: ConnectConfig,
    /// Forge Remote (off while `forge.app_id` is empty).
    pub forge: ForgeConfig,
    pub auth: AuthConfig,
    pub idempotency: IdempotencyConfig,
    pub delivery: DeliveryConfig,
    pub tenants: Vec<TenantConfig>,
    pub sources: Vec<SourceConfig>,
    /// The operator console (off by default).
    pub console: ConsoleConfig,
    /// OpenTelemetry traces (off unless an endpoint is set).
    pub telemetry: TelemetryConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    /// What Atlassian reaches; unset means `http://<bound listen address>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    pub max_body_bytes: usize,
    /// New signups being stored at once; one more is `503 overloaded` (docs/API.md).
    pub max_intake_in_flight: u32,
    #[serde(with = "humantime_serde")]
    pub client_request_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            max_body_bytes: 65_536,
            max_intake_in_flight: 256,
            client_request_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectConfig {
    pub app_key: String,
    pub app_name: String,
    pub install_keys_url: String,
    /// Hosts an installation's `baseUrl` may be on (`*.x` = any subdomain of x); loopback always.
    pub allowed_base_hosts: Vec<String>,
}

impl Default for ConnectConfig {
    fn default() -> Self {
        Self {
            app_key: "com.example.signup-bridge".into(),
            app_name: "Signup Bridge".into(),
            install_keys_url: "https://connect-install-keys.atlassian.com".into(),
            allowed_base_hosts: base_hosts::default_allowed(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    #[serde(with = "humantime_serde")]
    pub leeway: Duration,
    #[serde(with = "humantime_serde")]
    pub max_token_lifetime: Duration,
    #[serde(with = "humantime_serde")]
    pub jwks_cache_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub jwks_refresh_cooldown: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            leeway: Duration::from_secs(60),
            max_token_lifetime: Duration::from_secs(3600),
            jwks_cache_ttl: Duration::from_secs(600),
            jwks_refresh_cooldown: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdempotencyConfig {
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    #[serde(with = "humantime_serde")]
    pub failed_retention: Duration,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(72 * 3600),
            failed_retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    #[serde(with = "humantime_serde")]
    pub inline_wait: Duration,
    /// Committed signups waiting inline at once; the next is answered 202 at once.
    pub max_inline_waiters: u32,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    pub max_attempts: u32,
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    pub concurrency_per_tenant: u32,
    /// Requests per second to one tenant; 0 = no pacing.
    pub max_rate_per_tenant: f64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            inline_wait: Duration::from_secs(5),
            max_inline_waiters: 128,
            request_timeout: Duration::from_secs(10),
            max_attempts: 20,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(15 * 60),
            concurrency_per_tenant: 8,
            max_rate_per_tenant: 0.0,
        }
    }
}

/// A statically configured JSM site.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub id: String,
    pub base_url: String,
    pub auth: TenantAuth,
    #[serde(default)]
    pub service_desk_ids: Vec<IdOrKey>,
    #[serde(default)]
    pub organization_ids: Vec<IdOrKey>,
    /// Organizations added by the email's domain (docs/INTEGRATIONS.md, domain rules).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organization_rules: Vec<OrganizationRule>,
    /// The request raised on each new customer's behalf (SPEC §20); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome_request: Option<WelcomeRequest>,
    /// Atlassian's API gateway, under which OAuth 2.0 tokens are accepted (`{api_gateway_url}
    /// /ex/jira/{cloudId}`); only checked against `base_url` (see `gateway`). Tests point it at
    /// the simulator.
    #[serde(default = "gateway::default_api_gateway_url")]
    pub api_gateway_url: String,
}

/// How the bridge authenticates to a configured tenant.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TenantAuth {
    Basic {
        email: String,
        api_token: Secret,
    },
    Bearer {
        token: Secret,
    },
    OauthClientCredentials {
        client_id: String,
        client_secret: Secret,
        token_url: String,
    },
}

/// A desk or organization id: TOML may give an integer or a string (desks also take project keys).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum IdOrKey {
    Number(u64),
    Text(String),
}

impl std::fmt::Display for IdOrKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

/// `{ domain = "acme.com", organization_ids = [12] }`: signups whose email is at `domain`
/// (`*.acme.com`: any subdomain) also join these organizations.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRule {
    pub domain: String,
    pub organization_ids: Vec<IdOrKey>,
}

/// Who may send signups.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Must equal the JWT `iss`.
    pub id: String,
    /// A `[[tenants]]` id, an installation clientKey, or an installation baseUrl.
    pub tenant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_pem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_desk_ids: Option<Vec<IdOrKey>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<IdOrKey>>,
    /// Set, replaces the tenant's `organization_rules` for this source's signups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_rules: Option<Vec<OrganizationRule>>,
    /// Set, replaces the tenant's `welcome_request` for this source's signups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome_request: Option<WelcomeRequest>,
    /// Only addresses at these domains may sign up (empty: any domain).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_email_domains: Vec<String>,
    /// Addresses at these domains are refused (a block wins over an allow).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_email_domains: Vec<String>,
    /// Refuse addresses at known disposable-mail providers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub block_disposable_email: bool,
    /// How requests are verified (docs/INTEGRATIONS.md); `jwt` by default.
    #[serde(default)]
    pub verify: VerifyScheme,
    /// Timestamped schemes: the largest accepted |now - timestamp|.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub tolerance: Option<Duration>,
    /// `verify = "header"`: the header carrying the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// JSONPath queries into the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldsConfig>,
}

impl SourceConfig {
    /// A source signing with one HMAC secret, every other setting at its default.
    pub fn hmac(id: impl Into<String>, tenant: impl Into<String>, secret: Secret) -> Self {
        Self {
            id: id.into(),
            tenant: tenant.into(),
            secret: Some(secret),
            secrets: Vec::new(),
            public_key_pem: None,
            public_key_file: None,
            jwks_url: None,
            audience: None,
            rate_limit: None,
            service_desk_ids: None,
            organization_ids: None,
            organization_rules: None,
            welcome_request: None,
            allowed_email_domains: Vec::new(),
            blocked_email_domains: Vec::new(),
            block_disposable_email: false,
            verify: VerifyScheme::Jwt,
            tolerance: None,
            header: None,
            fields: None,
        }
    }

    /// A source verified by a sender scheme with these secrets, every other setting at its default.
    pub fn sender(
        id: impl Into<String>,
        tenant: impl Into<String>,
        verify: VerifyScheme,
        secrets: Vec<Secret>,
    ) -> Self {
        Self {
            secret: None,
            secrets,
            verify,
            ..Self::hmac(id, tenant, Secret::new("unused"))
        }
    }

    /// Every HMAC secret of this source, `secret` first, then `secrets` in order.
    pub fn hmac_secrets(&self) -> impl Iterator<Item = &Secret> {
        self.secret.iter().chain(self.secrets.iter())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub requests_per_second: f64,
    pub burst: u32,
}

impl Config {
    /// The effective configuration as TOML, every secret redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(&self.with_urls_redacted())
            .unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
    }

    /// The configured tenant with this id.
    pub fn tenant(&self, id: &str) -> Option<&TenantConfig> {
        self.tenants.iter().find(|t| t.id == id)
    }

    /// The source with this id (the JWT `iss`).
    pub fn source(&self, id: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.id == id)
    }
}
