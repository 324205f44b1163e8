//! Typed outcomes of a failed JSM call, chosen from the HTTP status (docs/DECISIONS.md, delivery).

use std::time::{Duration, SystemTime};

/// Why a JSM call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsmError {
    /// 429: the tenant must be left alone until `retry_after` (when JSM said); `quota` when
    /// a points-based quota is spent (`RateLimit-Reason: jira-quota-global-based` or
    /// `jira-quota-tenant-based`), which every tenant of the same app draws on.
    #[error("JSM answered 429 Too Many Requests{}", if *.quota { " (the app's points-based quota)" } else { "" })]
    RateLimited {
        retry_after: Option<Duration>,
        quota: bool,
    },
    #[error("JSM answered 401 Unauthorized: check the tenant's credentials")]
    Unauthorized,
    #[error("JSM answered 403 Forbidden: the credentials lack permission")]
    Forbidden,
    /// A 403 naming the permission the call needs; an admin may still grant it, so retried.
    #[error("JSM answered 403 Forbidden: the credentials lack {0}")]
    PermissionDenied(String),
    /// A 403 that will not change by itself: the app lacks a permission (named).
    #[error("JSM answered 403 Forbidden: the app lacks {0}")]
    PermissionMissing(String),
    /// A 404 on a desk or organization step: final for the signup (the config names
    /// something these credentials cannot see); the reason is the whole `lastError` text.
    #[error("JSM answered 404 Not Found: {0}")]
    StepNotFound(String),
    #[error("JSM answered 404 Not Found{}", detail(.0))]
    NotFound(Option<String>),
    #[error("JSM answered {status}{}", detail(.message))]
    Server {
        status: u16,
        message: Option<String>,
        retry_after: Option<Duration>,
    },
    /// A 400 (or other 4xx) on a step whose config decides it (the welcome request): final;
    /// `reason` is the bridge's own words naming the fix (the public `lastError`), `message`
    /// JSM's (the detail only).
    #[error("JSM rejected the request ({status}): {message}; {reason}")]
    StepRejected {
        status: u16,
        reason: String,
        message: String,
    },
    /// A 400 (or other 4xx) JSM will answer the same way every time.
    #[error("JSM rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("JSM did not answer within the request timeout")]
    Timeout,
    #[error("could not reach JSM: {0}")]
    Network(String),
    /// A 2xx whose body is not what JSM sends.
    #[error("JSM answered with an unexpected body: {0}")]
    InvalidResponse(String),
    /// Credentials could not be obtained (e.g. an OAuth token endpoint failing).
    #[error("could not authenticate to JSM: {0}")]
    Auth(String),
}

fn detail(message: &Option<String>) -> String {
    message
        .as_ref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

impl JsmError {
    /// Whether a later run may succeed (everything but a permanent rejection).
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Self::Rejected { .. }
                | Self::StepRejected { .. }
                | Self::PermissionMissing(_)
                | Self::StepNotFound(_)
        )
    }

    /// The minimum wait JSM asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Server { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The `outcome` label of `signup_bridge_jsm_requests_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Server { .. } | Self::InvalidResponse(_) => "server_error",
            Self::Timeout | Self::Network(_) | Self::Auth(_) => "network_error",
            Self::Unauthorized
            | Self::Forbidden
            | Self::PermissionDenied(_)
            | Self::PermissionMissing(_)
            | Self::NotFound(_)
            | Self::StepNotFound(_)
            | Self::StepRejected { .. }
            | Self::Rejected { .. } => "client_error",
        }
    }
}

/// The longest `Retry-After` honoured; a larger one (or a broken proxy's) is taken as this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Parse `Retry-After`: delay-seconds or an HTTP date, at most [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Parse `X-RateLimit-Reset`: an ISO 8601 timestamp in any form Atlassian sends (see
/// `reset_time`) or delay-seconds, at most [`MAX_RETRY_AFTER`] from `now`.
pub fn parse_rate_limit_reset(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    match super::reset_time::parse_iso8601(value) {
        Some(at) => Some(
            at.duration_since(now)
                .unwrap_or(Duration::ZERO)
                .min(MAX_RETRY_AFTER),
        ),
        None => parse_retry_after(value, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let cases = [
            ("2", Some(Duration::from_secs(2))),
            (" 120 ", Some(Duration::from_secs(120))),
            (
                "Sun, 06 Nov 1994 08:49:47 GMT",
                Some(Duration::from_secs(10)),
            ),
            ("Sun, 06 Nov 1994 08:49:00 GMT", Some(Duration::ZERO)),
            ("18446744073709551615", Some(MAX_RETRY_AFTER)),
            ("soon", None),
            ("-1", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_retry_after(raw, now), want, "{raw:?}");
        }
    }

    #[test]
    fn rate_limit_reset_forms() {
        let now = humantime::parse_rfc3339("2026-03-05T12:00:00Z").unwrap();
        let cases = [
            ("2026-03-05T12:00:30Z", Some(Duration::from_secs(30))),
            (
                "2026-03-05T12:00:30.500Z",
                Some(Duration::from_millis(30_500)),
            ),
            ("2026-03-05T11:59:00Z", Some(Duration::ZERO)),
            ("2026-03-06T12:00:00Z", Some(MAX_RETRY_AFTER)),
            ("2026-03-05T12:01Z", Some(Duration::from_secs(60))),
            ("2026-03-05T14:00:30+02:00", Some(Duration::from_secs(30))),
            ("2026-03-05T11:00:30-0100", Some(Duration::from_secs(30))),
            ("7", Some(Duration::from_secs(7))),
            ("tomorrow", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_rate_limit_reset(raw, now), want, "{raw:?}");
        }
    }

    #[test]
    fn classification() {
        assert!(
            !JsmError::Rejected {
                status: 400,
                message: "bad".into()
            }
            .is_retryable()
        );
        assert!(!JsmError::PermissionMissing("admin".into()).is_retryable());
        assert!(!JsmError::StepNotFound("service desk 1".into()).is_retryable());
        for e in [
            JsmError::Unauthorized,
            JsmError::Forbidden,
            JsmError::NotFound(None),
            JsmError::RateLimited {
                retry_after: None,
                quota: false,
            },
            JsmError::PermissionDenied("ADMINISTER".into()),
            JsmError::Server {
                status: 503,
                message: None,
                retry_after: None,
            },
            JsmError::Timeout,
            JsmError::Network("reset".into()),
        ] {
            assert!(e.is_retryable(), "{e:?}");
        }
    }
}
