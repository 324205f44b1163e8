//! The sender signature schemes: header parsing, timestamps and MACs over hostile headers.
//!
//! Input: one selector byte (the scheme), header lines `name: value` up to a blank line, then
//! the body. Headers that are not valid HTTP are left out, as the HTTP layer would refuse them.
#![no_main]

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use signup_bridge::auth::signature::{Policy, SignedRequest, verify};
use signup_bridge::config::{Secret, VerifyScheme};

const SCHEMES: [VerifyScheme; 9] = [
    VerifyScheme::Jwt,
    VerifyScheme::StandardWebhooks,
    VerifyScheme::Stripe,
    VerifyScheme::Typeform,
    VerifyScheme::Tally,
    VerifyScheme::Webflow,
    VerifyScheme::HubspotV3,
    VerifyScheme::Header,
    VerifyScheme::Query,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let scheme = SCHEMES[usize::from(selector) % SCHEMES.len()];
    let split = rest
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(rest.len());
    let (head, body) = rest.split_at(split);
    let body = body.get(2..).unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut query = "";
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name == b"?" {
            query = std::str::from_utf8(value).unwrap_or_default();
            continue;
        }
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    let secrets = [
        Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        Secret::new("fuzz-secret-0123456789abcdef0123456789"),
    ];
    let request = SignedRequest {
        method: "POST",
        public_uri: "https://bridge.example.com/webhooks/signup/s",
        query,
        headers: &headers,
        body,
    };
    let policy = Policy {
        secrets: &secrets,
        tolerance: std::time::Duration::from_secs(300),
        now_ms: 1_700_000_000_000,
        header: Some("x-webhook-secret"),
    };
    let _ = verify(scheme, &request, &policy);
});
