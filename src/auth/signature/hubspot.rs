//! HubSpot v3: `X-HubSpot-Signature-v3`, base64 HMAC-SHA256 over
//! `{METHOD}{URI}{body}{timestamp}`, and `X-HubSpot-Request-Timestamp` in milliseconds. The URI
//! is the one HubSpot called: `server.public_url` + path + query as received, with the
//! percent-escapes HubSpot signs decoded.

use super::{
    NO_MATCH, Policy, SignatureError, SignedRequest, any_matches, base64_sig, fresh_timestamp,
    header, raw_keys, reject,
};

/// The escapes HubSpot decodes before signing, and their characters.
const DECODED: [(&str, char); 12] = [
    ("3A", ':'),
    ("2F", '/'),
    ("3F", '?'),
    ("40", '@'),
    ("21", '!'),
    ("24", '$'),
    ("27", '\''),
    ("28", '('),
    ("29", ')'),
    ("2A", '*'),
    ("2C", ','),
    ("3B", ';'),
];

/// The URI HubSpot signs for a request to `path` with `query` under `public_url`.
pub fn signed_uri(public_url: &str, path: &str, query: &str) -> String {
    let mut raw = format!("{}{path}", public_url.trim_end_matches('/'));
    if !query.is_empty() {
        raw.push('?');
        raw.push_str(query);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw.as_str();
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at + 1..at + 3).unwrap_or_default();
        match DECODED
            .iter()
            .find(|(hex, _)| hex.eq_ignore_ascii_case(escape))
        {
            Some((_, c)) => {
                out.push(*c);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub(super) fn verify(req: &SignedRequest<'_>, policy: &Policy<'_>) -> Result<(), SignatureError> {
    let ts = header(req, "x-hubspot-request-timestamp")?;
    let sig = base64_sig(header(req, "x-hubspot-signature-v3")?);
    fresh_timestamp(ts, 1, policy)?;
    let parts: [&[u8]; 4] = [
        req.method.as_bytes(),
        req.public_uri.as_bytes(),
        req.body,
        ts.as_bytes(),
    ];
    if any_matches(&raw_keys(policy), &parts, &[sig]) {
        Ok(())
    } else {
        Err(reject(NO_MATCH))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const URI: &str = "https://www.example.com/webhook_uri";
    const SINGLE: &[u8] = b"{'example_field':'example_value'}";
    const DOUBLE: &[u8] = br#"{"example_field":"example_value"}"#;
    const SIG_SINGLE: &str = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=";
    const SIG_DOUBLE: &str = "fJwL147O2CMyGGBDGZPgScloA+jw6X0dJhSOkvWD3sY=";

    fn check(method: &str, uri: &str, body: &[u8], sig: &str, secret: &str, now: i64) -> bool {
        let h = headers(&[
            ("X-HubSpot-Signature-v3", sig),
            ("X-HubSpot-Request-Timestamp", "15000000"),
        ]);
        let secrets = secrets(&[secret]);
        let req = SignedRequest {
            method,
            public_uri: uri,
            ..request(&h, body)
        };
        verify(&req, &policy(&secrets, now)).is_ok()
    }

    #[test]
    fn published_vectors_and_rejections() {
        let now = 15_000_000;
        let cases = [
            ("POST", URI, SINGLE, SIG_SINGLE, SECRET, now, true),
            ("POST", URI, DOUBLE, SIG_DOUBLE, SECRET, now, true),
            ("POST", URI, DOUBLE, SIG_SINGLE, SECRET, now, false),
            ("GET", URI, SINGLE, SIG_SINGLE, SECRET, now, false),
            (
                "POST",
                "https://www.example.com/other",
                SINGLE,
                SIG_SINGLE,
                SECRET,
                now,
                false,
            ),
            (
                "POST",
                URI,
                SINGLE,
                SIG_SINGLE,
                "xxxxxxxx-yyyy-yyyy-yyyy-yyyyyyyyyyyy",
                now,
                false,
            ),
            ("POST", URI, SINGLE, &SIG_SINGLE[..40], SECRET, now, false),
            (
                "POST",
                URI,
                SINGLE,
                SIG_SINGLE,
                SECRET,
                now + 300_001,
                false,
            ),
            (
                "POST",
                URI,
                SINGLE,
                SIG_SINGLE,
                SECRET,
                now - 300_001,
                false,
            ),
        ];
        for (i, (method, uri, body, sig, secret, now, ok)) in cases.into_iter().enumerate() {
            assert_eq!(check(method, uri, body, sig, secret, now), ok, "case {i}");
        }
    }

    #[test]
    fn the_signed_uri_decodes_hubspots_escapes_only() {
        let cases = [
            (
                "https://b.example.com",
                "/webhooks/signup/hs",
                "",
                "https://b.example.com/webhooks/signup/hs",
            ),
            (
                "https://b.example.com/",
                "/w",
                "a=1%3A2%2f3",
                "https://b.example.com/w?a=1:2/3",
            ),
            (
                "https://b.example.com",
                "/w",
                "e=a%40b.co%20x%25",
                "https://b.example.com/w?e=a@b.co%20x%25",
            ),
            (
                "https://b.example.com",
                "/w",
                "x=%21%24%27%28%29%2A%2C%3B%3F",
                "https://b.example.com/w?x=!$'()*,;?",
            ),
            (
                "https://b.example.com",
                "/w",
                "x=%",
                "https://b.example.com/w?x=%",
            ),
        ];
        for (base, path, query, want) in cases {
            assert_eq!(signed_uri(base, path, query), want, "{query}");
        }
    }
}
