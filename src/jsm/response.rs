//! Reading JSM's answers: typed errors from statuses, JSM's error messages, the exact
//! customer among user-search results.

use std::time::SystemTime;

use reqwest::{StatusCode, header};
use serde_json::Value;

use super::{JsmError, parse_rate_limit_reset, parse_retry_after};

/// The prefix of every `RateLimit-Reason` of a points-based quota (published:
/// `jira-quota-global-based`, `jira-quota-tenant-based`): the app's quota, shared by every
/// tenant the app calls. Burst limits (`jira-burst-based`, API tokens) are per tenant.
pub const QUOTA_REASON_PREFIX: &str = "jira-quota-";

/// What a search for an existing customer found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The account whose readable email equals the signup's.
    Found(Value),
    /// Accounts were shown with their email hidden (profile visibility, an account managed
    /// elsewhere) and none with a readable, equal email: searching again will not change that.
    Unreadable { hidden: usize },
    /// Nothing that could be this account was shown (no results, or only other readable
    /// emails such as prefix near misses): JSM's index may lag just behind a create, or the
    /// caller may not browse users (an empty list, not a 403).
    Empty,
}

/// The exact match among search results (case-insensitive email, readable only).
pub(super) fn pick_exact(users: Vec<Value>, email: &str) -> Lookup {
    let shown = |u: &Value| {
        u.get("emailAddress")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let hidden = users.iter().filter(|u| shown(u).is_none()).count();
    match users
        .into_iter()
        .find(|u| shown(u).is_some_and(|e| e.eq_ignore_ascii_case(email)))
    {
        Some(user) => Lookup::Found(user),
        None if hidden > 0 => Lookup::Unreadable { hidden },
        None => Lookup::Empty,
    }
}

pub(super) fn transport_error(e: reqwest::Error) -> JsmError {
    if e.is_timeout() {
        JsmError::Timeout
    } else {
        let e = e.without_url();
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        JsmError::Network(message)
    }
}

/// JSM's `errorMessage`, else the start of the body.
pub(super) fn error_message(body: &[u8]) -> Option<String> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        v.get("errorMessage")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                v.get("errorMessages")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
    });
    from_json.or_else(|| {
        let text = String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(200)
            .collect::<String>();
        (!text.is_empty()).then_some(text)
    })
}

/// The English messages of JSM's duplicate-email 400 (docs/DECISIONS.md lists them): a 400
/// counts as "already exists" only when its `errorMessage` starts with one of these (any
/// case). Only meaningful because every call sends `requestLanguage=en-US`.
pub const DUPLICATE_EMAIL_PHRASES: &[&str] = &[
    "an account already exists for this email",
    "a customer with this email address already exists",
    "email address is already in use",
];

/// JSM's duplicate-email 400 (the answer without `strictConflictStatusCode`).
pub(super) fn says_email_exists(message: &Option<String>) -> bool {
    message.as_deref().is_some_and(|m| {
        let m = m.trim().to_lowercase();
        DUPLICATE_EMAIL_PHRASES.iter().any(|p| m.starts_with(p))
    })
}

pub(super) fn classify(
    status: StatusCode,
    headers: &header::HeaderMap,
    message: Option<String>,
) -> JsmError {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let now = SystemTime::now();
    let retry_after = value(header::RETRY_AFTER.as_str())
        .and_then(|v| parse_retry_after(v, now))
        .or_else(|| {
            // Points-based limits may give only the window's reset time.
            (status == StatusCode::TOO_MANY_REQUESTS)
                .then(|| value("x-ratelimit-reset").and_then(|v| parse_rate_limit_reset(v, now)))
                .flatten()
        });
    match status.as_u16() {
        401 => JsmError::Unauthorized,
        403 => JsmError::Forbidden,
        404 => JsmError::NotFound(message),
        429 => JsmError::RateLimited {
            retry_after,
            quota: value("ratelimit-reason").is_some_and(|r| {
                r.trim()
                    .to_ascii_lowercase()
                    .starts_with(QUOTA_REASON_PREFIX)
            }),
        },
        // Redirects are not followed (see `outbound`). A JSM site that redirects has moved or
        // is misconfigured; retrying keeps the signup until an operator or a re-install
        // (which brings the new baseUrl) fixes it, instead of failing it for good.
        300..=399 => JsmError::Server {
            status: status.as_u16(),
            message: Some("JSM redirected the call; redirects are not followed".into()),
            retry_after,
        },
        408 | 500..=599 => JsmError::Server {
            status: status.as_u16(),
            message,
            retry_after,
        },
        other => JsmError::Rejected {
            status: other,
            message: message.unwrap_or_else(|| "no error message".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    #[test]
    fn only_an_exact_email_is_the_customer() {
        let users = |emails: &[Option<&str>]| -> Vec<Value> {
            emails
                .iter()
                .map(|e| match e {
                    Some(e) => json!({"accountId": format!("id-{e}"), "emailAddress": e}),
                    None => json!({"accountId": "hidden"}),
                })
                .collect()
        };
        let found = pick_exact(
            users(&[Some("fred@x.com.au"), Some("Fred@X.com")]),
            "fred@x.com",
        );
        assert!(
            matches!(&found, Lookup::Found(u) if u["accountId"] == "id-Fred@X.com"),
            "{found:?}"
        );
        assert_eq!(
            pick_exact(users(&[None, Some("fred@x.com.au")]), "fred@x.com"),
            Lookup::Unreadable { hidden: 1 }
        );
        // A readable near miss is not this account: as good as nothing shown (index lag).
        assert_eq!(
            pick_exact(users(&[Some("fred@x.com.au")]), "fred@x.com"),
            Lookup::Empty
        );
        assert_eq!(pick_exact(vec![], "fred@x.com"), Lookup::Empty);
    }

    #[test]
    fn duplicate_email_messages() {
        let cases = [
            ("An account already exists for this email: fred@x.com", true),
            ("A customer with this email address already exists", true),
            ("Email address is already in use.", true),
            ("Enter a valid email address", false),
            // Not the phrase: a message merely mentioning "already" is not a duplicate.
            ("The email is already being validated; try again", false),
            ("An invitation for this email already exists", false),
            ("This email is already taken by a pending invitation", false),
            // A translated message never counts (requestLanguage=en-US was not honoured).
            (
                "Für diese E-Mail-Adresse existiert bereits ein Konto",
                false,
            ),
        ];
        for (message, duplicate) in cases {
            assert_eq!(
                says_email_exists(&Some(message.into())),
                duplicate,
                "{message}"
            );
        }
        assert!(!says_email_exists(&None));
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let h = header::HeaderMap::new();
        assert_eq!(
            classify(StatusCode::UNAUTHORIZED, &h, None),
            JsmError::Unauthorized
        );
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, &h, None),
            JsmError::Server { status: 502, .. }
        ));
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, &h, Some("bad".into())),
            JsmError::Rejected { status: 400, .. }
        ));
        for redirect in [
            StatusCode::MOVED_PERMANENTLY,
            StatusCode::TEMPORARY_REDIRECT,
        ] {
            let error = classify(redirect, &h, None);
            assert!(error.is_retryable(), "{redirect}");
            assert!(error.to_string().contains("redirect"), "{error}");
        }
        let mut h = header::HeaderMap::new();
        h.insert(header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, None),
            JsmError::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
                quota: false
            }
        );
    }

    #[test]
    fn points_based_429s() {
        let mut h = header::HeaderMap::new();
        h.insert(
            "ratelimit-reason",
            "jira-quota-global-based".parse().unwrap(),
        );
        h.insert("x-ratelimit-reset", "9".parse().unwrap());
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, None),
            JsmError::RateLimited {
                retry_after: Some(Duration::from_secs(9)),
                quota: true
            },
            "X-RateLimit-Reset stands in for a missing Retry-After"
        );
        h.insert(
            "ratelimit-reason",
            "Jira-Quota-Tenant-Based".parse().unwrap(),
        );
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, None),
            JsmError::RateLimited { quota: true, .. }
        ));
        h.insert(header::RETRY_AFTER, "2".parse().unwrap());
        h.insert("ratelimit-reason", "jira-burst-based".parse().unwrap());
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, None),
            JsmError::RateLimited {
                retry_after: Some(Duration::from_secs(2)),
                quota: false
            },
            "Retry-After first; a burst limit pauses one tenant"
        );
    }
}
