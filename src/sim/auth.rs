//! Authentication of JSM API calls, as JSM Cloud checks it.
//!
//! Accepted: `Basic base64(email:api_token)` for a configured pair, `Bearer <token>` for a
//! configured token or a live one issued by `/_sim/oauth/token`, and `JWT <token>` as an Atlassian Connect app: HS256 signed with the
//! app's shared secret, `iss` equal to the app key, `exp` present and not passed, and a `qsh`
//! equal to the query-string hash of this very request (method, path relative to the context
//! path, raw query). The scheme word is case-insensitive. Anything else is rejected.
//! Connect apps are the configured one plus those installed through `/_sim/install`.
//!
//! Published fact (SPEC §17, Atlassian's OAuth 2.0 docs): OAuth 2.0 access tokens (3LO and
//! client credentials) are accepted only under `https://api.atlassian.com/ex/jira/{cloudId}`;
//! the site URL answers 401 to them. So Bearer tokens are refused at the site root unless the
//! `oauth_at_site` switch is on, and Connect JWTs are refused under the gateway path.

use super::config::{SimConfig, SimConnect};
use super::identity::Caller;
use crate::auth::qsh::qsh;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;

/// The request facts that authentication looks at.
pub(crate) struct AuthInput<'a> {
    pub authorization: Option<&'a str>,
    pub method: &'a str,
    /// Path relative to the context path, still percent-encoded.
    pub relative_path: &'a str,
    pub raw_query: &'a str,
    /// The call came under `/ex/jira/{cloudId}` (the API gateway), not the site root.
    pub at_gateway: bool,
    /// Bearer tokens are accepted at the site root too (the `oauth_at_site` switch).
    pub oauth_at_site: bool,
}

#[derive(Deserialize)]
struct ConnectClaims {
    qsh: Option<String>,
}

/// The caller when the request carries credentials this simulator accepts; `oauth_client`
/// names the client a live issued token belongs to.
pub(crate) fn authenticate(
    config: &SimConfig,
    installed: &[SimConnect],
    oauth_client: &dyn Fn(&str) -> Option<String>,
    input: &AuthInput<'_>,
) -> Result<Caller, String> {
    let header = input.authorization.ok_or("no Authorization header")?;
    let (scheme, credentials) = header
        .trim()
        .split_once(' ')
        .ok_or("malformed Authorization header")?;
    let credentials = credentials.trim();
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => check_basic(config, credentials),
        "bearer" => {
            let caller = if config.bearer_tokens.iter().any(|t| t == credentials) {
                Caller::Bearer(credentials.to_string())
            } else if let Some(client) = oauth_client(credentials) {
                Caller::OAuth(client)
            } else {
                return Err("unknown bearer token".into());
            };
            if !input.at_gateway && !input.oauth_at_site {
                return Err("OAuth 2.0 tokens are accepted only under /ex/jira/{cloudId}".into());
            }
            Ok(caller)
        }
        "jwt" if input.at_gateway => Err("Connect JWTs are not accepted by the API gateway".into()),
        "jwt" => {
            let mut apps = config.connect.iter().chain(installed).peekable();
            if apps.peek().is_none() {
                return Err("no Connect app configured".into());
            }
            let mut last = String::new();
            for app in apps {
                match check_connect(app, credentials, input) {
                    Ok(()) => return Ok(Caller::Connect),
                    Err(why) => last = why,
                }
            }
            Err(last)
        }
        other => Err(format!("unsupported scheme {other}")),
    }
}

fn check_basic(config: &SimConfig, credentials: &str) -> Result<Caller, String> {
    let decoded = STANDARD
        .decode(credentials)
        .map_err(|_| "basic credentials are not base64")?;
    let decoded = String::from_utf8(decoded).map_err(|_| "basic credentials are not UTF-8")?;
    let (email, token) = decoded
        .split_once(':')
        .ok_or("basic credentials without ':'")?;
    // JSM treats the email of an API token login case-insensitively; the token is exact.
    config
        .basic
        .iter()
        .find(|(e, t)| e.eq_ignore_ascii_case(email) && t == token)
        .map(|(e, _)| Caller::Basic(e.clone()))
        .ok_or_else(|| "unknown email or API token".into())
}

fn check_connect(connect: &SimConnect, token: &str, input: &AuthInput<'_>) -> Result<(), String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iss"]);
    validation.set_issuer(&[connect.app_key.as_str()]);
    validation.validate_aud = false;
    let data = decode::<ConnectClaims>(
        token,
        &DecodingKey::from_secret(connect.shared_secret.as_bytes()),
        &validation,
    )
    .map_err(|e| format!("JWT rejected: {e}"))?;
    let expected = qsh(input.method, input.relative_path, input.raw_query);
    match data.claims.qsh {
        Some(got) if got == expected => Ok(()),
        Some(_) => Err("qsh does not match the request".into()),
        None => Err("JWT without qsh".into()),
    }
}
