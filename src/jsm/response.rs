//! Reading JSM's answers: typed errors from statuses, JSM's error messages, the exact
//! customer among user-search results.

use std::time::SystemTime;

use reqwest::{StatusCode, header};
use serde_json::Value;

use super::{JsmError, parse_rate_limit_reset, parse_retry_after};

/// The `RateLimit-Reason` of a 429 that spent the app's quota on every site.
pub const GLOBAL_QUOTA_REASON: &str = "jira-quota-global-based";

/// The exact match among search results: `Ok(None)` when JSM hides emails (the customer
/// exists but cannot be named), an error when every email is shown and none is this one.
pub(super) fn pick_exact(users: Vec<Value>, email: &str) -> Result<Option<Value>, JsmError> {
    let shown = |u: &Value| {
        u.get("emailAddress")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let any_hidden = users.iter().any(|u| shown(u).is_none());
    match users
        .into_iter()
        .find(|u| shown(u).is_some_and(|e| e.eq_ignore_ascii_case(email)))
    {
        Some(user) => Ok(Some(user)),
        None if any_hidden => Ok(None),
        None => Err(JsmError::NotFound(Some(
            "JSM reported the email as taken, but its user search does not show it yet".into(),
        ))),
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

/// JSM's duplicate-email 400 (without `strictConflictStatusCode`).
pub(super) fn says_email_exists(message: &Option<String>) -> bool {
    message.as_deref().is_some_and(|m| {
        let m = m.to_lowercase();
        m.contains("already")
            && (m.contains("exist") || m.contains("in use") || m.contains("taken"))
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
            global: value("ratelimit-reason")
                .is_some_and(|r| r.trim().eq_ignore_ascii_case(GLOBAL_QUOTA_REASON)),
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
            users(&[Some("alfred@x.com"), Some("Fred@X.com")]),
            "fred@x.com",
        )
        .unwrap();
        assert_eq!(found.unwrap()["accountId"], "id-Fred@X.com");
        assert_eq!(
            pick_exact(users(&[None, Some("alfred@x.com")]), "fred@x.com").unwrap(),
            None
        );
        assert!(pick_exact(users(&[Some("alfred@x.com")]), "fred@x.com").is_err());
        assert!(pick_exact(vec![], "fred@x.com").is_err());
    }

    #[test]
    fn duplicate_email_messages() {
        assert!(says_email_exists(&Some(
            "An account already exists for this email".into()
        )));
        assert!(says_email_exists(&Some(
            "Email address is already in use.".into()
        )));
        assert!(!says_email_exists(&Some(
            "Enter a valid email address".into()
        )));
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
                global: false
            }
        );
    }

    #[test]
    fn points_based_429s() {
        let mut h = header::HeaderMap::new();
        h.insert("ratelimit-reason", GLOBAL_QUOTA_REASON.parse().unwrap());
        h.insert("x-ratelimit-reset", "9".parse().unwrap());
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, None),
            JsmError::RateLimited {
                retry_after: Some(Duration::from_secs(9)),
                global: true
            },
            "X-RateLimit-Reset stands in for a missing Retry-After"
        );
        h.insert(header::RETRY_AFTER, "2".parse().unwrap());
        h.insert("ratelimit-reason", "jira-burst-based".parse().unwrap());
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, None),
            JsmError::RateLimited {
                retry_after: Some(Duration::from_secs(2)),
                global: false
            },
            "Retry-After first; another reason pauses one tenant"
        );
    }
}
