//! Judging JSM's answers: each function turns one answer (or its absence) into a [`Verdict`]
//! with the finding and the fix, worded for the admin who must act on it. No I/O here.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::Verdict;
use super::access::AuthKind;
use super::probe::Reply;

/// Clock skew beyond this is a warning (Connect JWTs live 180 s; JSM checks `iat`/`exp`).
pub const MAX_SKEW: Duration = Duration::from_secs(30);
/// Less than this share of the rate-limit window left is a warning (JSM's own near-limit mark).
const NEAR_LIMIT_SHARE: f64 = 0.2;

pub(super) fn not_jira(check: &str, status: StatusCode) -> Verdict {
    Verdict::fail(
        check,
        format!("the answer ({status}) is not Jira's: a proxy or login page answered"),
        "set base_url to the Jira site (https://<site>.atlassian.net) or, for OAuth and bearer \
         tokens, https://api.atlassian.com/ex/jira/{cloudId}",
    )
}

/// An answer no check expected: a redirect, a 404 for a route every site has, a 5xx.
pub(super) fn unexpected(check: &str, call: &str, status: StatusCode, reply: &Reply) -> Verdict {
    if status.is_redirection() {
        let to = reply
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("?");
        return Verdict::fail(
            check,
            format!("{call} answered {status}, a redirect to {to} (redirects are not followed)"),
            "set base_url to the address it redirects to",
        );
    }
    if status == StatusCode::NOT_FOUND {
        return Verdict::fail(
            check,
            format!("{call} answered 404: base_url does not point at Jira Cloud's REST API"),
            "set base_url to the site (https://<site>.atlassian.net, with its context path if any) \
             or https://api.atlassian.com/ex/jira/{cloudId}",
        );
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Verdict::warn(
            check,
            format!("{call} was rate limited (429); not checked"),
            "run doctor again after the Retry-After",
        );
    }
    Verdict::fail(
        check,
        format!("{call} answered {status}"),
        "run doctor again later; if it persists, check Atlassian's status page for this site",
    )
}

/// `GET /rest/api/3/mypermissions?permissions=ADMINISTER,USER_PICKER`: one verdict each.
/// `has_steps`: the tenant adds customers to desks or organizations (then a missing
/// USER_PICKER loses those steps for existing customers, a failure, not a warning).
pub fn permissions(reply: &Reply, kind: AuthKind, has_steps: bool) -> Vec<Verdict> {
    const ADMIN: &str = "permission:ADMINISTER";
    const PICKER: &str = "permission:USER_PICKER";
    if !reply.status.is_success() {
        let call = "GET /rest/api/3/mypermissions";
        return vec![
            unexpected(ADMIN, call, reply.status, reply),
            unexpected(PICKER, call, reply.status, reply),
        ];
    }
    let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    let has = |key: &str| body["permissions"][key]["havePermission"].as_bool();
    let admin = match has("ADMINISTER") {
        Some(true) => Verdict::ok(
            ADMIN,
            "Jira Administrators global permission held: customers can be created",
        ),
        Some(false) => Verdict::fail(
            ADMIN,
            "no Jira Administrators global permission: every customer create would answer 403 \
             (signups retry as `jsm_permission` until max_attempts, then fail)",
            format!(
                "grant Administer Jira to {} (Settings → System → Global permissions)",
                kind.who()
            ),
        ),
        None => not_jira(ADMIN, reply.status),
    };
    let picker = match has("USER_PICKER") {
        Some(true) => Verdict::ok(
            PICKER,
            "Browse users and groups held: existing customers can be found",
        ),
        Some(false) => {
            let detail = "no Browse users and groups permission: user search answers an empty \
                 list, so a signup whose customer already exists ends `existing` with customer \
                 null, reason `account_unreadable`";
            let fix = format!(
                "grant Browse users and groups to {} (Settings → System → Global permissions)",
                kind.who()
            );
            match has_steps {
                true => Verdict::fail(
                    PICKER,
                    format!(
                        "{detail}, and is never added to the configured service desks and organizations"
                    ),
                    fix,
                ),
                false => Verdict::warn(PICKER, detail, fix),
            }
        }
        None => not_jira(PICKER, reply.status),
    };
    vec![admin, picker]
}

/// A service desk or organization the config names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// `service_desk` or `organization`.
    pub kind: &'static str,
    pub id: String,
    /// The config key that names it (`tenants[0].service_desk_ids`).
    pub key: String,
}

impl Member {
    /// The read-only call that shows whether it exists.
    pub fn path(&self) -> String {
        let id =
            percent_encoding::utf8_percent_encode(&self.id, percent_encoding::NON_ALPHANUMERIC);
        match (self.kind, self.id.split_once(':')) {
            ("service_desk", _) => format!("/rest/servicedeskapi/servicedesk/{id}"),
            ("request_type", Some((desk, rtype))) => {
                let enc = |s| {
                    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                };
                format!(
                    "/rest/servicedeskapi/servicedesk/{}/requesttype/{}",
                    enc(desk),
                    enc(rtype)
                )
            }
            _ => format!("/rest/servicedeskapi/organization/{id}"),
        }
    }

    fn noun(&self) -> &'static str {
        match self.kind {
            "service_desk" => "service desk",
            "request_type" => "request type",
            _ => "organization",
        }
    }

    /// `service desk 10`, `organization 7`, `request type 5 of service desk 10`.
    fn shown(&self) -> String {
        match self
            .id
            .split_once(':')
            .filter(|_| self.kind == "request_type")
        {
            Some((desk, rtype)) => format!("request type {rtype} of service desk {desk}"),
            None => format!("{} {}", self.noun(), self.id),
        }
    }
}

/// `GET servicedesk/{id}`, `organization/{id}` or `servicedesk/{id}/requesttype/{id}`: does it
/// exist for these credentials?
pub fn member(reply: &Reply, m: &Member) -> Verdict {
    let check = format!("{}:{}", m.kind, m.id);
    let (noun, shown) = (m.noun(), m.shown());
    match reply.status {
        s if s.is_success() => {
            let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
            let detail = match body["projectName"].as_str().or(body["name"].as_str()) {
                Some(name) => format!("{shown} exists ({name})"),
                None => format!("{shown} exists"),
            };
            Verdict::ok(check, detail)
        }
        StatusCode::NOT_FOUND => Verdict::fail(
            check,
            format!(
                "{shown} does not exist or cannot be seen by these credentials (named in `{}`)",
                m.key
            ),
            format!(
                "correct `{}`, or give the account access to that {noun}",
                m.key
            ),
        ),
        StatusCode::FORBIDDEN if m.kind == "request_type" => Verdict::fail(
            check,
            format!("JSM refused to show {shown} (403)"),
            "make the account an agent of that service desk (raising the welcome request on a \
             customer's behalf needs it)",
        ),
        StatusCode::FORBIDDEN => Verdict::fail(
            check,
            format!("JSM refused to show {shown} (403)"),
            format!(
                "make the account an admin of the {noun}'s service desk (adding customers needs it)"
            ),
        ),
        s => unexpected(&check, &format!("GET {}", m.path()), s, reply),
    }
}

/// Clock skew from JSM's `Date` header, received at `now`.
pub fn clock(headers: &HeaderMap, now: SystemTime) -> Verdict {
    let Some(date) = headers
        .get("date")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return Verdict::warn(
            "clock",
            "JSM sent no readable Date header: clock skew not measured",
            "none needed unless tokens are refused; keep this host on NTP",
        );
    };
    let (jsm_ahead, skew) = match date.duration_since(now) {
        Ok(d) => (true, d),
        Err(e) => (false, e.duration()),
    };
    let secs = skew.as_secs();
    if skew <= MAX_SKEW {
        return Verdict::ok(
            "clock",
            format!("this host's clock is within {}s of JSM's", secs.max(1)),
        );
    }
    let direction = if jsm_ahead { "behind" } else { "ahead of" };
    Verdict::warn(
        "clock",
        format!(
            "this host's clock is {secs}s {direction} JSM's (more than {}s)",
            MAX_SKEW.as_secs()
        ),
        "synchronise this host's clock (NTP): Connect JWTs live 180 s and tokens from the future are refused",
    )
}

/// Rate-limit headroom from `X-RateLimit-*` of the latest answer carrying them, and any 429.
pub fn rate_limit(headers: Option<&HeaderMap>, limited: Option<&HeaderMap>) -> Verdict {
    const CHECK: &str = "rate_limit";
    let get = |h: &HeaderMap, name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(str::to_string)
    };
    if let Some(h) = limited {
        let reason = get(h, "ratelimit-reason").unwrap_or_else(|| "no reason given".into());
        let after = get(h, "retry-after").unwrap_or_else(|| "?".into());
        return Verdict::warn(
            CHECK,
            format!("JSM answered 429 ({reason}); Retry-After {after} s"),
            "deliveries pause and resume by themselves; if this is frequent, lower \
             `delivery.max_rate_per_tenant` or spread the signups",
        );
    }
    let Some(h) = headers else {
        return Verdict::ok(
            CHECK,
            "JSM reported no X-RateLimit headers (no rate-limit window to report)",
        );
    };
    let limit = get(h, "x-ratelimit-limit").and_then(|v| v.parse::<f64>().ok());
    let remaining = get(h, "x-ratelimit-remaining").and_then(|v| v.parse::<f64>().ok());
    let near = get(h, "x-ratelimit-nearlimit").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let shown = match (remaining, limit) {
        (Some(r), Some(l)) => format!("{r} of {l} requests left in the window"),
        _ => "headroom not stated".into(),
    };
    let low =
        matches!((remaining, limit), (Some(r), Some(l)) if l > 0.0 && r / l < NEAR_LIMIT_SHARE);
    if near || low {
        return Verdict::warn(
            CHECK,
            format!(
                "near the rate limit: {shown}{}",
                if near {
                    " (X-RateLimit-NearLimit: true)"
                } else {
                    ""
                }
            ),
            "other traffic with these credentials uses most of the window; signups may be paused \
             by 429s: spread the load, or lower `delivery.max_rate_per_tenant`",
        );
    }
    Verdict::ok(CHECK, shown)
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
