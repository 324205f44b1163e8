//! Responses of the simulated JSM API and JSM's error bodies.
//!
//! The Service Management API (`/rest/servicedeskapi`) reports errors as
//! `{"errorMessage", "i18nErrorMessage": {"i18nKey", "parameters"}}`; the platform API
//! (`/rest/api/3`) as `{"errorMessages": [...], "errors": {}}`. The i18n keys below are the
//! simulator's own stand-ins: a client must rely on the status and `errorMessage` only.
//!
//! Published fact (jsm.v3.json, `requestLanguage`): messages are translated to the caller's
//! or the site's language unless the call asks for `requestLanguage=en-US`; [`Lang`] picks the
//! text. The `Date` header carries the simulator's clock plus `clock_skew_secs`.

use std::time::{Duration, SystemTime};

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

/// The language of one answer: English, or the site's other language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    De,
}

impl Lang {
    /// `requestLanguage=en-US` (BCP 47, any case) makes the answer English whatever the site's
    /// language is.
    pub(crate) fn of(query: &str, site: super::facts::SimLanguage) -> Lang {
        let asked_english = url::form_urlencoded::parse(query.as_bytes()).any(|(k, v)| {
            k == "requestLanguage"
                && (v.eq_ignore_ascii_case("en-US") || v.eq_ignore_ascii_case("en"))
        });
        match (asked_english, site) {
            (true, _) | (false, super::facts::SimLanguage::En) => Lang::En,
            (false, super::facts::SimLanguage::De) => Lang::De,
        }
    }

    /// `en` or `de`, as this answer's language wants.
    pub(crate) fn pick(self, en: impl Into<String>, de: impl Into<String>) -> String {
        match self {
            Lang::En => en.into(),
            Lang::De => de.into(),
        }
    }
}

/// A response before it becomes an HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    pub retry_after: Option<u64>,
    /// Further headers (`RateLimit-Reason`, `X-RateLimit-*`).
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            retry_after: None,
            headers: Vec::new(),
        }
    }

    pub(crate) fn empty(status: u16) -> Reply {
        Reply {
            status,
            body: None,
            retry_after: None,
            headers: Vec::new(),
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
    pub(crate) fn unauthorized(lang: Lang) -> Reply {
        Reply::jsm_error(
            401,
            &lang.pick(
                "Client must be authenticated to access this resource.",
                "Der Client muss authentifiziert sein, um auf diese Ressource zuzugreifen.",
            ),
            "sd.public.api.error.unauthorized",
            &[],
        )
    }

    /// The rate limiter's answer. Published fact (Atlassian's rate-limiting page): a 429
    /// always carries `Retry-After`, the reason in `RateLimit-Reason`, and `X-RateLimit-Reset`
    /// as an ISO 8601 timestamp.
    pub(crate) fn rate_limited(retry_after: u64, reason: &str) -> Reply {
        let mut reply = Reply::jsm_error(
            429,
            "Rate limit exceeded.",
            "sd.public.api.error.rate.limited",
            &[],
        );
        reply.retry_after = Some(retry_after);
        let reset = SystemTime::now() + Duration::from_secs(retry_after);
        reply.headers.push(("RateLimit-Reason", reason.to_string()));
        reply.headers.push((
            "X-RateLimit-Reset",
            humantime::format_rfc3339_seconds(reset).to_string(),
        ));
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

    pub(crate) fn not_found(lang: Lang) -> Reply {
        Reply::jsm_error(
            404,
            &lang.pick("Resource not found.", "Ressource nicht gefunden."),
            "sd.public.api.error.not.found",
            &[],
        )
    }

    pub(crate) fn method_not_allowed() -> Reply {
        Reply::empty(405)
    }

    /// The HTTP response, its `Date` header `clock_skew_secs` off the simulator's clock.
    pub(crate) fn into_http(self, clock_skew_secs: i64) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = HttpResponse::build(status);
        let now = SystemTime::now();
        let skew = Duration::from_secs(clock_skew_secs.unsigned_abs());
        let date = if clock_skew_secs >= 0 {
            now + skew
        } else {
            now - skew
        };
        builder.insert_header(("Date", httpdate::fmt_http_date(date)));
        if let Some(secs) = self.retry_after {
            builder.insert_header(("Retry-After", secs.to_string()));
        }
        for (name, value) in self.headers {
            builder.insert_header((name, value));
        }
        match self.body {
            Some(body) => builder.json(body),
            None => builder.finish(),
        }
    }
}
