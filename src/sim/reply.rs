//! Responses of the simulated JSM API and JSM's error bodies.
//!
//! The Service Management API (`/rest/servicedeskapi`) reports errors as
//! `{"errorMessage", "i18nErrorMessage": {"i18nKey", "parameters"}}`; the platform API
//! (`/rest/api/3`) as `{"errorMessages": [...], "errors": {}}`. The i18n keys below are the
//! simulator's own stand-ins: a client must rely on the status and `errorMessage` only.

use serde_json::{Value, json};

/// A response before it becomes an HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    pub retry_after: Option<u64>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            retry_after: None,
        }
    }

    pub(crate) fn empty(status: u16) -> Reply {
        Reply {
            status,
            body: None,
            retry_after: None,
        }
    }

    /// A Service Management API error.
    pub(crate) fn jsm_error(status: u16, message: &str, key: &str, params: &[&str]) -> Reply {
        Reply::json(
            status,
            json!({
                "errorMessage": message,
                "i18nErrorMessage": { "i18nKey": key, "parameters": params },
            }),
        )
    }

    /// A platform (`/rest/api/3`) error.
    pub(crate) fn platform_error(status: u16, message: &str) -> Reply {
        Reply::json(status, json!({ "errorMessages": [message], "errors": {} }))
    }

    /// JSM Cloud's answer to missing or rejected credentials.
    pub(crate) fn unauthorized() -> Reply {
        Reply::jsm_error(
            401,
            "Client must be authenticated to access this resource.",
            "sd.public.api.error.unauthorized",
            &[],
        )
    }

    /// The rate limiter's answer.
    pub(crate) fn rate_limited(retry_after: u64) -> Reply {
        let mut reply = Reply::jsm_error(
            429,
            "Rate limit exceeded.",
            "sd.public.api.error.rate.limited",
            &[],
        );
        reply.retry_after = Some(retry_after);
        reply
    }

    /// An injected status (fault script).
    pub(crate) fn injected(status: u16, retry_after: Option<u64>) -> Reply {
        let message = match status {
            429 => "Rate limit exceeded.",
            500 => "Internal server error.",
            502 => "Bad gateway.",
            503 => "Service unavailable.",
            504 => "Gateway timeout.",
            _ => "Injected failure.",
        };
        let mut reply = Reply::jsm_error(status, message, "sd.sim.injected", &[]);
        reply.retry_after = retry_after;
        reply
    }

    pub(crate) fn not_found() -> Reply {
        Reply::jsm_error(
            404,
            "Resource not found.",
            "sd.public.api.error.not.found",
            &[],
        )
    }

    pub(crate) fn method_not_allowed() -> Reply {
        Reply::empty(405)
    }
}
