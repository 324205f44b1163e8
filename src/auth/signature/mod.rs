//! Sender-signed webhooks (docs/INTEGRATIONS.md): the schemes of marketing and form tools that cannot mint a
//! JWT. Each scheme is one small file that checks one request against a source's secrets.
//!
//! Rules every scheme keeps: the MAC runs over the exact raw body bytes before anything parses
//! them; a signature is compared in constant time after a length check (`Mac::verify_slice`,
//! `subtle`); any one of the source's secrets verifies (rotation); a timestamp is accepted within
//! `tolerance` on either side of now. A failure never echoes what was sent.

mod hubspot;
pub mod sign;
mod standard_webhooks;
mod static_secret;
mod stripe;
mod tally;
mod typeform;
mod webflow;

use std::time::Duration;

use actix_web::http::header::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{Secret, VerifyScheme};

pub use crate::config::standard_webhooks_key;
pub use hubspot::signed_uri;

/// The parts of a request a scheme may read.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// `server.public_url` + path + query as received (HubSpot v3 signs it).
    pub public_uri: &'a str,
    /// The raw query string (`query` sources carry their key there).
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    /// The exact bytes received.
    pub body: &'a [u8],
}

/// What a source accepts.
pub struct Policy<'a> {
    pub secrets: &'a [Secret],
    pub tolerance: Duration,
    pub now_ms: i64,
    /// `verify = "header"`: the header carrying the secret.
    pub header: Option<&'a str>,
}

/// Why a request was refused; safe to answer with (never contains what was sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SignatureError(pub String);

fn reject(message: impl Into<String>) -> SignatureError {
    SignatureError(message.into())
}

/// Verify `req` by `scheme`; on success the scheme's delivery id, if it has one (`webhook-id`).
pub fn verify(
    scheme: VerifyScheme,
    req: &SignedRequest<'_>,
    policy: &Policy<'_>,
) -> Result<Option<String>, SignatureError> {
    match scheme {
        VerifyScheme::Jwt => Err(reject("this source verifies JWTs, not signatures")),
        VerifyScheme::StandardWebhooks => standard_webhooks::verify(req, policy),
        VerifyScheme::Stripe => stripe::verify(req, policy).map(|()| None),
        VerifyScheme::Typeform => typeform::verify(req, policy).map(|()| None),
        VerifyScheme::Tally => tally::verify(req, policy).map(|()| None),
        VerifyScheme::Webflow => webflow::verify(req, policy).map(|()| None),
        VerifyScheme::HubspotV3 => hubspot::verify(req, policy).map(|()| None),
        VerifyScheme::Header => static_secret::verify_header(req, policy).map(|()| None),
        VerifyScheme::Query => static_secret::verify_query(req.query, policy).map(|()| None),
    }
}

/// HMAC-SHA256 of the concatenated parts.
pub(crate) fn mac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    for part in parts {
        mac.update(part);
    }
    mac
}

/// True when any secret's MAC over `parts` equals any of the `given` signatures.
fn any_matches(keys: &[Vec<u8>], parts: &[&[u8]], given: &[Vec<u8>]) -> bool {
    keys.iter().any(|key| {
        let mac = mac(key, parts);
        given
            .iter()
            .any(|sig| mac.clone().verify_slice(sig).is_ok())
    })
}

/// The secrets as configured, as MAC keys.
fn raw_keys(policy: &Policy<'_>) -> Vec<Vec<u8>> {
    policy
        .secrets
        .iter()
        .map(|s| s.expose().as_bytes().to_vec())
        .collect()
}

/// A header's value as text; absent or unreadable is a rejection naming it.
fn header<'r>(req: &'r SignedRequest<'_>, name: &str) -> Result<&'r str, SignatureError> {
    req.headers
        .get(name)
        .ok_or_else(|| reject(format!("the {name} header is missing")))?
        .to_str()
        .map_err(|_| reject(format!("the {name} header is malformed")))
}

/// A timestamp header in `unit_ms` milliseconds per unit, within `tolerance` of now.
fn fresh_timestamp(raw: &str, unit_ms: i64, policy: &Policy<'_>) -> Result<(), SignatureError> {
    let ts: i64 = raw
        .trim()
        .parse()
        .map_err(|_| reject("the signature timestamp is malformed"))?;
    let skew = policy.now_ms.abs_diff(ts.saturating_mul(unit_ms));
    if u128::from(skew) > policy.tolerance.as_millis() {
        return Err(reject(
            "the signature timestamp is outside the accepted tolerance",
        ));
    }
    Ok(())
}

fn base64_sig(raw: &str) -> Vec<u8> {
    use base64::Engine as _;
    // An undecodable signature matches nothing; it is not an error of its own.
    base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .unwrap_or_default()
}

fn hex_sig(raw: &str) -> Vec<u8> {
    hex::decode(raw.trim()).unwrap_or_default()
}

const NO_MATCH: &str = "no signature matches";

#[cfg(test)]
pub(crate) mod testing {
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

    use super::*;

    pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    pub fn secrets(values: &[&str]) -> Vec<Secret> {
        values.iter().map(|v| Secret::new(*v)).collect()
    }

    pub fn request<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> SignedRequest<'a> {
        SignedRequest {
            method: "POST",
            public_uri: "https://bridge.example.com/webhooks/signup/s",
            query: "",
            headers,
            body,
        }
    }

    pub fn policy(secrets: &[Secret], now_ms: i64) -> Policy<'_> {
        Policy {
            secrets,
            tolerance: Duration::from_secs(300),
            now_ms,
            header: None,
        }
    }

    pub fn b64(bytes: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}
