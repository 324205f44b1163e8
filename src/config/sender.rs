//! The sender settings of a source (docs/INTEGRATIONS.md): how its requests are verified, the clock
//! tolerance of timestamped schemes, and where the signup's fields sit in its body.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json_path::JsonPath;

use base64::Engine as _;

use super::{Secret, SourceConfig};

/// How a source's requests are verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyScheme {
    /// A JWT in `Authorization` (docs/API.md, credentials).
    #[default]
    Jwt,
    StandardWebhooks,
    Stripe,
    Typeform,
    Tally,
    Webflow,
    #[serde(rename = "hubspot-v3")]
    HubspotV3,
    /// The configured `header` carries a secret as is.
    Header,
    /// `?key=<secret>` carries a secret as is.
    Query,
}

impl VerifyScheme {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::StandardWebhooks => "standard-webhooks",
            Self::Stripe => "stripe",
            Self::Typeform => "typeform",
            Self::Tally => "tally",
            Self::Webflow => "webflow",
            Self::HubspotV3 => "hubspot-v3",
            Self::Header => "header",
            Self::Query => "query",
        }
    }

    pub fn is_jwt(self) -> bool {
        self == Self::Jwt
    }

    /// Whether the scheme signs the body with an HMAC: then only signed material may name the
    /// idempotency key, never the unsigned `Idempotency-Key` header (docs/INTEGRATIONS.md).
    pub fn is_hmac(self) -> bool {
        !matches!(self, Self::Jwt | Self::Header | Self::Query)
    }
}

/// `[sources.fields]`: RFC 9535 JSONPath queries into the body; each one is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

impl FieldsConfig {
    /// Every configured query with its key name.
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("email", &self.email),
            ("display_name", &self.display_name),
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("idempotency_key", &self.idempotency_key),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    }
}

/// The longest query accepted, and the most `[` and `(` in one. The JSONPath parser backtracks
/// exponentially in nesting (a fuzzed 131-character query of unclosed filters took seconds to
/// reject); real mappings need a handful.
const MAX_QUERY_LEN: usize = 256;
const MAX_QUERY_NESTING: usize = 8;

/// Compile a `[sources.fields]` query (moved here from `domain/fields.rs`, so `config/` checks
/// it without importing upward); the error says why it does not parse.
pub fn compile_path(path: &str) -> Result<JsonPath, String> {
    if path.len() > MAX_QUERY_LEN {
        return Err(format!(
            "a JSONPath query is at most {MAX_QUERY_LEN} characters"
        ));
    }
    if path.chars().filter(|c| matches!(c, '[' | '(')).count() > MAX_QUERY_NESTING {
        return Err(format!(
            "{path:?} has more than {MAX_QUERY_NESTING} `[` and `(` together"
        ));
    }
    // The parser panics on some malformed queries (an unfinished `\u` escape) instead of
    // failing; contained here, such a query is a config error, not a crash.
    match std::panic::catch_unwind(|| JsonPath::parse(path)) {
        Ok(Ok(query)) => Ok(query),
        Ok(Err(e)) => Err(format!("{path:?} is not an RFC 9535 JSONPath: {e}")),
        Err(_) => Err(format!("{path:?} is not an RFC 9535 JSONPath")),
    }
}

/// The default `tolerance` of timestamped schemes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The longest `tolerance` accepted.
pub const MAX_TOLERANCE: Duration = Duration::from_secs(3600);

/// Shortest secret a signature, `header` or `query` source accepts, counted as configured
/// (a Standard Webhooks secret counted after decoding).
pub const MIN_SENDER_SECRET_BYTES: usize = 16;

/// The MAC key of a Standard Webhooks secret: base64 after an optional `whsec_`.
pub fn standard_webhooks_key(secret: &Secret) -> Option<Vec<u8>> {
    let raw = secret.expose();
    let encoded = raw.strip_prefix("whsec_").unwrap_or(raw);
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
}

/// The sender rules of one source; `key` is its config path (`sources[1]`).
pub fn validate_sender(s: &SourceConfig, key: &str) -> Result<(), String> {
    for (name, path) in s.fields.iter().flat_map(FieldsConfig::entries) {
        compile_path(path).map_err(|e| format!("key `{key}.fields.{name}`: {e}"))?;
    }
    if s.verify.is_jwt() {
        if s.header.is_some() {
            return Err(format!("key `{key}.header`: only for verify = \"header\""));
        }
        return Ok(());
    }
    if s.public_key_pem.is_some() || s.public_key_file.is_some() || s.jwks_url.is_some() {
        return Err(format!(
            "key `{key}`: verify = {:?} takes `secret`/`secrets`, not public keys",
            s.verify.as_str()
        ));
    }
    if s.secret.is_none() && s.secrets.is_empty() {
        return Err(format!(
            "key `{key}.secrets`: verify = {:?} needs `secret` or `secrets`",
            s.verify.as_str()
        ));
    }
    let named = s.secret.iter().map(|v| ("secret".to_string(), v));
    let listed = (s.secrets.iter().enumerate()).map(|(i, v)| (format!("secrets[{i}]"), v));
    for (name, secret) in named.chain(listed) {
        // A Standard Webhooks secret is counted decoded: its key is the bytes after `whsec_`.
        let bytes = match s.verify {
            VerifyScheme::StandardWebhooks => standard_webhooks_key(secret)
                .ok_or_else(|| {
                    format!(
                        "key `{key}.{name}`: a Standard Webhooks secret is base64 after an optional whsec_"
                    )
                })?
                .len(),
            _ => secret.expose().len(),
        };
        if bytes < MIN_SENDER_SECRET_BYTES {
            return Err(format!(
                "key `{key}.{name}`: must be at least {MIN_SENDER_SECRET_BYTES} bytes{}",
                if s.verify == VerifyScheme::StandardWebhooks {
                    " after base64-decoding"
                } else {
                    ""
                }
            ));
        }
    }
    match (s.verify, &s.header) {
        (VerifyScheme::Header, None) => {
            return Err(format!(
                "key `{key}.header`: verify = \"header\" needs `header`"
            ));
        }
        (VerifyScheme::Header, Some(h)) => {
            actix_web::http::header::HeaderName::from_bytes(h.as_bytes())
                .map_err(|_| format!("key `{key}.header`: {h:?} is not a header name"))?;
        }
        (_, Some(_)) => {
            return Err(format!("key `{key}.header`: only for verify = \"header\""));
        }
        _ => {}
    }
    if s.verify == VerifyScheme::Webflow
        && s.fields.as_ref().and_then(|f| f.email.as_ref()).is_none()
    {
        return Err(format!(
            "key `{key}.fields.email`: verify = \"webflow\" needs it (form field names are the site's own)"
        ));
    }
    if s.tolerance.is_some_and(|t| t.is_zero()) {
        return Err(format!("key `{key}.tolerance`: must be more than 0"));
    }
    if s.tolerance.is_some_and(|t| t > MAX_TOLERANCE) {
        return Err(format!(
            "key `{key}.tolerance`: must be at most 1h (a longer window lets a captured delivery \
             be replayed for longer)"
        ));
    }
    Ok(())
}
