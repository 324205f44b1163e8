//! Signing like a sender would, for `signup-bridge sign`: the headers (or the query) a tool of
//! the source's scheme adds to a request, made with the source's first secret.

use hmac::Mac;

use super::mac;
use crate::config::{SourceConfig, VerifyScheme};

/// What a sender adds to its request.
pub struct SenderSignature {
    /// `Name: value` headers.
    pub headers: Vec<(String, String)>,
    /// A query parameter (`key=…`), already percent-encoded.
    pub query: Option<String>,
}

/// Sign `body` for `source` at `now_ms`. `uri` is the URL the request goes to (HubSpot signs it),
/// `delivery_id` the Standard Webhooks message id.
pub fn sign(
    source: &SourceConfig,
    body: &[u8],
    now_ms: i64,
    uri: &str,
    delivery_id: &str,
) -> Result<SenderSignature, String> {
    let secret = source
        .hmac_secrets()
        .next()
        .ok_or_else(|| format!("source {:?} has no secret", source.id))?;
    let key = secret.expose().as_bytes();
    let secs = (now_ms / 1000).to_string();
    let ms = now_ms.to_string();
    let b64 = |bytes: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let tag = |key: &[u8], parts: &[&[u8]]| mac(key, parts).finalize().into_bytes().to_vec();
    let header = |name: &str, value: String| vec![(name.to_string(), value)];
    let headers = match source.verify {
        VerifyScheme::Jwt => return Err("a JWT source signs with `signup-bridge token`".into()),
        VerifyScheme::StandardWebhooks => {
            let key = crate::config::standard_webhooks_key(secret)
                .ok_or("the secret is not base64 (after an optional whsec_)")?;
            let sig = tag(
                &key,
                &[delivery_id.as_bytes(), b".", secs.as_bytes(), b".", body],
            );
            vec![
                ("webhook-id".to_string(), delivery_id.to_string()),
                ("webhook-timestamp".to_string(), secs.clone()),
                ("webhook-signature".to_string(), format!("v1,{}", b64(&sig))),
            ]
        }
        VerifyScheme::Stripe => {
            let sig = hex::encode(tag(key, &[secs.as_bytes(), b".", body]));
            header("Stripe-Signature", format!("t={secs},v1={sig}"))
        }
        VerifyScheme::Typeform => header(
            "Typeform-Signature",
            format!("sha256={}", b64(&tag(key, &[body]))),
        ),
        VerifyScheme::Tally => header("Tally-Signature", b64(&tag(key, &[body]))),
        VerifyScheme::Webflow => vec![
            ("x-webflow-timestamp".to_string(), ms.clone()),
            (
                "x-webflow-signature".to_string(),
                hex::encode(tag(key, &[ms.as_bytes(), b":", body])),
            ),
        ],
        VerifyScheme::HubspotV3 => {
            let sig = tag(key, &[b"POST", uri.as_bytes(), body, ms.as_bytes()]);
            vec![
                ("X-HubSpot-Signature-v3".to_string(), b64(&sig)),
                ("X-HubSpot-Request-Timestamp".to_string(), ms.clone()),
            ]
        }
        VerifyScheme::Header => {
            let name = source.header.clone().ok_or("the source has no `header`")?;
            vec![(name, secret.expose().to_string())]
        }
        VerifyScheme::Query => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("key", secret.expose())
                .finish();
            return Ok(SenderSignature {
                headers: Vec::new(),
                query: Some(query),
            });
        }
    };
    Ok(SenderSignature {
        headers,
        query: None,
    })
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

    use super::super::{Policy, SignedRequest, verify};
    use super::*;
    use crate::config::Secret;

    /// Whatever `sign` makes, the verifier of the same scheme accepts.
    #[test]
    fn every_scheme_verifies_what_it_signs() {
        let schemes = [
            VerifyScheme::StandardWebhooks,
            VerifyScheme::Stripe,
            VerifyScheme::Typeform,
            VerifyScheme::Tally,
            VerifyScheme::Webflow,
            VerifyScheme::HubspotV3,
            VerifyScheme::Header,
            VerifyScheme::Query,
        ];
        let body = br#"{"email":"fred@example.com"}"#;
        let uri = "https://bridge.example.com/webhooks/signup/s";
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        for scheme in schemes {
            let mut source = SourceConfig::sender("s", "acme", scheme, vec![secret.clone()]);
            source.header = Some("X-Signup-Token".into());
            let now = 1_700_000_000_000;
            let signed = sign(&source, body, now, uri, "msg_1").unwrap();
            let mut headers = HeaderMap::new();
            for (name, value) in &signed.headers {
                headers.insert(
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                );
            }
            let req = SignedRequest {
                method: "POST",
                public_uri: uri,
                query: signed.query.as_deref().unwrap_or_default(),
                headers: &headers,
                body,
            };
            let secrets = [secret.clone()];
            let policy = Policy {
                secrets: &secrets,
                tolerance: std::time::Duration::from_secs(300),
                now_ms: now,
                header: source.header.as_deref(),
            };
            assert!(verify(scheme, &req, &policy).is_ok(), "{scheme:?}");
        }
    }
}
