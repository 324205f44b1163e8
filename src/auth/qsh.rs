//! Connect query-string hash (qsh).
//!
//! Atlassian Connect binds a JWT to one HTTP request by putting, in the `qsh` claim, the
//! lowercase hex SHA-256 of a *canonical request*: `METHOD&PATH&QUERY`.
//!
//! - `METHOD` is the HTTP method in upper case.
//! - `PATH` is the request path relative to the product's (or app's) base URL path, as sent
//!   (still percent-encoded): `/` when empty, no trailing `/` (except the root itself), and any
//!   `&` written `%26` so it cannot be confused with the separators.
//! - `QUERY` is built from the raw query string: the `jwt` parameter is dropped; each key and
//!   value is percent-decoded and re-encoded RFC 3986 style (only `A-Za-z0-9-._~` left as is,
//!   everything else `%XX` upper case, so a space is `%20` and `+` is `%2B`); keys are sorted by
//!   the byte order of their encoded form; the values of a repeated key are sorted and joined
//!   with `,`; a key without value is written `key=`; pairs are joined with `&`.
//!
//! A raw `+` in the query is decoded as a space, as form decoding does. That is what
//! Atlassian's reference implementations do: the Java library reads the parameters through
//! the servlet API (form-decoded) and the Ruby gem parses with `CGI.parse`; a literal plus
//! has to be sent as `%2B`. The values of a repeated key are sorted in their decoded form
//! before being encoded, as those implementations do.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Everything but the RFC 3986 unreserved characters is encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Canonical request string "METHOD&PATH&QUERY".
pub fn canonical_request(method: &str, path: &str, query: &str) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        canonical_path(path),
        canonical_query(query)
    )
}

/// lowercase hex SHA-256 of canonical_request.
pub fn qsh(method: &str, path: &str, query: &str) -> String {
    hex::encode(Sha256::digest(
        canonical_request(method, path, query).as_bytes(),
    ))
}

/// The path of `url_path` relative to a base path (e.g. base "/jira", url path "/jira/rest/x" -> "/rest/x"); None if url_path is not under base.
pub fn relative_path<'a>(base_path: &str, url_path: &'a str) -> Option<&'a str> {
    let base = base_path.trim_end_matches('/');
    let rest = url_path.strip_prefix(base)?;
    // "/jira" must not claim "/jiranimo/...": the base ends at a segment boundary.
    if rest.is_empty() || rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

fn canonical_path(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    let path = if trimmed.is_empty() { "/" } else { trimmed };
    let path = path.replace('&', "%26");
    if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    }
}

fn canonical_query(query: &str) -> String {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = form_decode(key);
        if key == "jwt" {
            continue;
        }
        params
            .entry(encode(&key))
            .or_default()
            .push(form_decode(value));
    }
    params
        .into_iter()
        .map(|(key, mut values)| {
            values.sort();
            let joined: Vec<String> = values.iter().map(|v| encode(v)).collect();
            format!("{key}={}", joined.join(","))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-decodes one query component, a raw `+` meaning a space (form decoding).
fn form_decode(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_decode(spaced.as_bytes())
        .decode_utf8_lossy()
        .into_owned()
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, RFC3986).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published canonical requests and their hashes: "canonical qsh" per line.
    const PUBLISHED: &str = "\
GET&/path& 799be84a7fa35570087163c0cd9af3abff7ac05c2c12ba0bb1d7eebc984b3ac2\n\
GET&/& c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239\n\
POST&/hello-world& 6f95f3738e1b037a3bebbe0ad237d80fdbc1d5ae452e98ce03a9c004c178ebb4\n\
GET&/test&param=value be16910858a41fd19ea5c1b4e9decca9a784d1024cb00b2158defe2f29dc86dd\n\
GET&/test&param=some%20spaces%20in%20this%20parameter ef4097d05395eaf1a133956f140116a9c411afad768d4f06daac9e305764265d\n\
GET&/test&query=connect%2A 0d28bc10d1972d9cab59e123ce17976eb32aad6957a13cfb8b97ced6d3fc8a29\n\
GET&/test&director=%E5%AE%AE%E5%B4%8E%20%E9%A7%BF 44d6354ffe8f963972a7fc59e98b2c3dfe4b493295c5b89edd974a339e61ac89\n\
GET&/test&ids=10%2C2%2C20%2C1 2e617b65f966650789990e5cac8ff295ee5b453834d04798f466ff6035bd8829\n\
GET&/test&tuples=1%2C2%2C3,6%2C5%2C4,7%2C9%2C8 f9f62bb61191dff1b219e9ade8ac38fcfa46272ea76d9545410db6559fd8e7bd\n\
GET&/test&title=1%20%2B%201%20equals%203 ce0a866ce0c34cbde70deb63f6915192f58500d2b49b12e1ffc8cdf91edabc91\n\
GET&/test&eta=in%20~3%20days 5c5f97cdfe3abd8feb48f6f0240a71ef5c111289a5bf77ddf645250b3951ec63\n\
GET&/test&rfc=%24-_.%2B%21%2A%27%28%29%2C 0e36229cc459ff8ccb4845c11433cfbbe25bfa45e8c1ea14d2a124231cb0a2e9\n\
GET&/test&rfc=%20%3C%3E%22%23%25%7B%7D%7C%5C%5E~%5B%5D%60 36ba39c5379d752bbef1349ba58df98ecaa456b78c7c2e3245e2f33eac712a49\n\
POST&/rest/servicedeskapi/customer&strictConflictStatusCode=true 4ff08937aeccd4fce54201618b35f296106c647a59087abe464feeba861feb91";

    fn vectors() -> impl Iterator<Item = (&'static str, &'static str)> {
        PUBLISHED
            .lines()
            .map(|l| l.rsplit_once(' ').expect("canonical and qsh"))
    }

    fn sha256_hex(s: &str) -> String {
        hex::encode(Sha256::digest(s.as_bytes()))
    }

    #[test]
    fn published_canonical_strings_hash_to_published_qsh() {
        assert_eq!(vectors().count(), 14);
        for (canonical, expected) in vectors() {
            assert_eq!(sha256_hex(canonical), expected, "{canonical}");
        }
    }

    #[test]
    fn published_canonical_strings_are_fixed_points() {
        // A published canonical string, fed back in as method/path/query, canonicalises to
        // itself and so hashes to the published qsh through `qsh` — except where a raw `,`
        // joins repeated values, which reads back as one value (the RAW table covers those).
        for (canonical, expected) in vectors().filter(|(c, _)| !c.contains(',')) {
            let mut parts = canonical.splitn(3, '&');
            let (m, p, q) = match (parts.next(), parts.next(), parts.next()) {
                (Some(m), Some(p), Some(q)) => (m, p, q),
                _ => panic!("bad vector {canonical}"),
            };
            assert_eq!(canonical_request(m, p, q), canonical);
            assert_eq!(qsh(m, p, q), expected, "{canonical}");
        }
    }

    /// (method, path, raw query) as received → published canonical string.
    const RAW: &[(&str, &str, &str, &str)] = &[
        ("get", "/path", "", "GET&/path&"),
        ("GET", "", "", "GET&/&"),
        ("GET", "/", "jwt=abc.def.ghi", "GET&/&"),
        ("post", "/hello-world/", "", "POST&/hello-world&"),
        ("GET", "/test", "param=value", "GET&/test&param=value"),
        (
            "GET",
            "/test",
            "param=some+spaces+in+this+parameter",
            "GET&/test&param=some%20spaces%20in%20this%20parameter",
        ),
        (
            "GET",
            "/test",
            "param=some%20spaces%20in%20this%20parameter",
            "GET&/test&param=some%20spaces%20in%20this%20parameter",
        ),
        (
            "GET",
            "/test",
            "query=connect*",
            "GET&/test&query=connect%2A",
        ),
        (
            "GET",
            "/test",
            "director=%e5%ae%ae%e5%b4%8e%20%e9%a7%bf",
            "GET&/test&director=%E5%AE%AE%E5%B4%8E%20%E9%A7%BF",
        ),
        (
            "GET",
            "/test",
            "ids=10,2,20,1",
            "GET&/test&ids=10%2C2%2C20%2C1",
        ),
        (
            "GET",
            "/test",
            "tuples=7,9,8&tuples=1,2,3&tuples=6,5,4",
            "GET&/test&tuples=1%2C2%2C3,6%2C5%2C4,7%2C9%2C8",
        ),
        (
            "GET",
            "/test",
            "title=1+%2B+1+equals+3",
            "GET&/test&title=1%20%2B%201%20equals%203",
        ),
        (
            "GET",
            "/test",
            "eta=in+%7E3+days",
            "GET&/test&eta=in%20~3%20days",
        ),
        (
            "GET",
            "/test",
            "eta=in%20~3%20days",
            "GET&/test&eta=in%20~3%20days",
        ),
        (
            "GET",
            "/test",
            "rfc=%24-_.%2B!*'()%2C",
            "GET&/test&rfc=%24-_.%2B%21%2A%27%28%29%2C",
        ),
        (
            "POST",
            "/rest/servicedeskapi/customer",
            "strictConflictStatusCode=true&jwt=x.y.z",
            "POST&/rest/servicedeskapi/customer&strictConflictStatusCode=true",
        ),
        ("GET", "/test", "ids=10&ids=2", "GET&/test&ids=10,2"),
        ("GET", "/test", "b=2&flag&a=1", "GET&/test&a=1&b=2&flag="),
        ("GET", "/test", "flag=", "GET&/test&flag="),
        ("GET", "/a&b", "", "GET&/a%26b&"),
        ("GET", "/test", "a%20b=c&a+b=d", "GET&/test&a%20b=c,d"),
    ];

    #[test]
    fn raw_requests_canonicalise_as_published() {
        for (method, path, query, canonical) in RAW {
            assert_eq!(
                &canonical_request(method, path, query),
                canonical,
                "{method} {path}?{query}"
            );
        }
    }

    #[test]
    fn raw_plus_is_a_space_and_encoded_plus_is_a_plus() {
        assert_ne!(qsh("GET", "/test", "q=a+b"), qsh("GET", "/test", "q=a%2Bb"));
        assert_eq!(qsh("GET", "/test", "q=a+b"), qsh("GET", "/test", "q=a%20b"));
    }

    #[test]
    fn relative_path_strips_the_context_path() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("/jira", "/jira/rest/x", Some("/rest/x")),
            ("/jira/", "/jira/rest/x", Some("/rest/x")),
            ("/jira", "/jira", Some("")),
            ("/jira", "/jiranimo/rest", None),
            ("/jira", "/rest/x", None),
            ("", "/rest/x", Some("/rest/x")),
            ("/", "/rest/x", Some("/rest/x")),
        ];
        for (base, path, expected) in cases {
            assert_eq!(relative_path(base, path), *expected, "{base} {path}");
        }
    }

    #[test]
    fn context_path_request_hashes_like_the_relative_one() {
        let rel = relative_path("/jira", "/jira/rest/servicedeskapi/customer");
        assert_eq!(rel, Some("/rest/servicedeskapi/customer"));
        assert_eq!(
            qsh(
                "POST",
                rel.unwrap_or_default(),
                "strictConflictStatusCode=true"
            ),
            "4ff08937aeccd4fce54201618b35f296106c647a59087abe464feeba861feb91"
        );
        assert_eq!(
            canonical_request("GET", relative_path("/jira", "/jira").unwrap_or("x"), ""),
            "GET&/&"
        );
    }
}
