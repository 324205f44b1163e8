//! The JSM side of the HTTP server: log, fault, rate limit, authenticate, route, delay.
//!
//! Order for each request: it is logged as it arrives; paths outside the context path are
//! 404; a queued fault is taken (a fault that does not process the request answers at once);
//! then the token bucket (429, no effect), authentication (401, no effect) and the route.
//! The configured latency (plus a Delay fault's) is slept before the answer, and the answer
//! is recorded in the log. A Drop closes the connection before any byte of the response is
//! written, so the client sees the connection closed, not a status.
//!
//! The same pipeline serves the API gateway path `/ex/jira/{cloudId}` for OAuth tokens and
//! API tokens (see `forge_jsm`, which routes Forge system tokens to their own modes). With a
//! token bucket, every answer carries `X-RateLimit-Limit` / `X-RateLimit-Remaining` and, under
//! 20 % left, `X-RateLimit-NearLimit: true` (Atlassian's rate-limiting page).

use super::auth::{AuthInput, authenticate};
use super::faults::FaultAction;
use super::reply::{Lang, Reply};
use super::routes::{JsmRequest, handle};
use super::state::{LoggedRequest, SimState, unix_ms};
use crate::auth::qsh::relative_path;
use actix_web::{HttpRequest, HttpResponse, web};
use std::time::{Duration, SystemTime};

enum Outcome {
    Reply(Reply),
    Drop,
}

/// Put a JSM request in the request log as it arrived; its sequence number.
pub(crate) fn log_incoming(state: &SimState, req: &HttpRequest, body: &[u8]) -> u64 {
    let received_at = SystemTime::now();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    state.log_request(LoggedRequest {
        seq: 0,
        received_at,
        received_at_ms: unix_ms(received_at),
        method: req.method().as_str().to_owned(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        accept: header("accept"),
        x_experimentalapi: header("x-experimentalapi"),
        traceparent: header("traceparent"),
        body: String::from_utf8_lossy(body).into_owned(),
        status: None,
        responded_at: None,
        responded_at_ms: None,
        dropped: false,
    })
}

/// Entry point of every request outside `/_sim/`.
pub(crate) async fn jsm_entry(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<SimState>,
) -> HttpResponse {
    let context = state.config().normalised_context_path();
    let relative = relative_path(&context, req.path()).map(str::to_owned);
    serve(&state, &req, &body, relative.as_deref(), false).await
}

/// Log, process and answer one JSM request whose path relative to the site (or gateway) is
/// `relative` (None: outside the context path, 404).
pub(crate) async fn serve(
    state: &SimState,
    req: &HttpRequest,
    body: &[u8],
    relative: Option<&str>,
    at_gateway: bool,
) -> HttpResponse {
    let seq = log_incoming(state, req, body);
    let (outcome, extra_delay) = process(state, req, relative, body, at_gateway);
    let delay = state.latency() + extra_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match outcome {
        Outcome::Reply(reply) => {
            state.log_response(seq, Some(reply.status));
            let skew = state.lock().facts.clock_skew_secs;
            reply.into_http(skew)
        }
        Outcome::Drop => {
            state.log_response(seq, None);
            dropped_connection()
        }
    }
}

fn process(
    state: &SimState,
    req: &HttpRequest,
    relative: Option<&str>,
    body: &[u8],
    at_gateway: bool,
) -> (Outcome, Duration) {
    let lang = Lang::of(req.query_string(), state.lock().facts.language);
    let Some(relative) = relative else {
        return (Outcome::Reply(Reply::not_found(lang)), Duration::ZERO);
    };
    let method = req.method().as_str();
    let fault = state.take_fault(method, req.path());
    match fault {
        Some(FaultAction::Status {
            status,
            retry_after,
            process_first: false,
        }) => {
            return (
                Outcome::Reply(injected(state, status, retry_after)),
                Duration::ZERO,
            );
        }
        Some(FaultAction::Drop {
            process_first: false,
        }) => return (Outcome::Drop, Duration::ZERO),
        Some(FaultAction::Quote { status }) => {
            return (Outcome::Reply(quoting(status, body)), Duration::ZERO);
        }
        _ => {}
    }
    let reply = normal(state, req, relative, body, at_gateway, lang);
    match fault {
        Some(FaultAction::Status {
            status,
            retry_after,
            ..
        }) => (
            Outcome::Reply(injected(state, status, retry_after)),
            Duration::ZERO,
        ),
        Some(FaultAction::Drop { .. }) => (Outcome::Drop, Duration::ZERO),
        Some(FaultAction::Delay { ms }) => (Outcome::Reply(reply), Duration::from_millis(ms)),
        Some(FaultAction::Quote { .. }) | None => (Outcome::Reply(reply), Duration::ZERO),
    }
}

/// A JSM error quoting the person the request's body names.
fn quoting(status: u16, body: &[u8]) -> Reply {
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |name: &str| body.get(name).and_then(|v| v.as_str()).unwrap_or_default();
    let (email, name) = (field("email"), field("displayName"));
    Reply::jsm_error(
        status,
        &format!("The customer '{name}' <{email}> could not be created."),
        "sd.sim.injected",
        &[email, name],
    )
}

/// An injected status; a 429 names the configured `RateLimit-Reason` and, with a
/// `Retry-After`, the same instant as an ISO 8601 `X-RateLimit-Reset`, like JSM's.
fn injected(state: &SimState, status: u16, retry_after: Option<u64>) -> Reply {
    if status != 429 {
        return Reply::injected(status, retry_after);
    }
    let reason = state.lock().facts.rate_limit_reason.clone();
    match retry_after {
        Some(secs) => Reply::rate_limited(secs, &reason),
        None => {
            let mut reply = Reply::injected(status, None);
            reply.headers.push(("RateLimit-Reason", reason));
            reply
        }
    }
}

fn normal(
    state: &SimState,
    req: &HttpRequest,
    relative: &str,
    body: &[u8],
    at_gateway: bool,
    lang: Lang,
) -> Reply {
    let headroom = match state.take_token() {
        Ok(headroom) => headroom,
        Err(retry_after) => {
            let (reason, burst) = {
                let inner = state.lock();
                let burst = inner.bucket.as_ref().map_or(0, |b| b.headroom().0);
                (inner.facts.rate_limit_reason.clone(), burst)
            };
            return with_headroom(Reply::rate_limited(retry_after, &reason), burst, 0);
        }
    };
    let reply = authenticated(state, req, relative, body, at_gateway, lang);
    match headroom {
        Some((limit, remaining)) => with_headroom(reply, limit, remaining),
        None => reply,
    }
}

fn authenticated(
    state: &SimState,
    req: &HttpRequest,
    relative: &str,
    body: &[u8],
    at_gateway: bool,
    lang: Lang,
) -> Reply {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let input = AuthInput {
        authorization: header("authorization"),
        method: req.method().as_str(),
        relative_path: relative,
        raw_query: req.query_string(),
        at_gateway,
        oauth_at_site: state.lock().facts.oauth_at_site,
    };
    let oauth_client = |token: &str| state.oauth_token_client(token);
    let installed = state.installed_apps();
    let caller = match authenticate(state.config(), &installed, &oauth_client, &input) {
        Ok(caller) => caller,
        Err(why) => {
            tracing::debug!(reason = %why, "jsm-sim: rejected credentials");
            return Reply::unauthorized(lang);
        }
    };
    handle(
        state,
        &JsmRequest {
            method: req.method().as_str(),
            path: relative,
            query: req.query_string(),
            content_type: header("content-type"),
            experimental: header("x-experimentalapi")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("opt-in")),
            body,
            caller: &caller,
            lang,
        },
    )
}

/// `X-RateLimit-Limit`, `X-RateLimit-Remaining` and, under 20 % left,
/// `X-RateLimit-NearLimit: true`.
fn with_headroom(mut reply: Reply, limit: u32, remaining: u32) -> Reply {
    reply.headers.push(("X-RateLimit-Limit", limit.to_string()));
    reply
        .headers
        .push(("X-RateLimit-Remaining", remaining.to_string()));
    if f64::from(remaining) < f64::from(limit) * 0.2 {
        reply.headers.push(("X-RateLimit-NearLimit", "true".into()));
    }
    reply
}

/// A response whose body fails before anything is flushed: actix drops the connection with
/// the head still unsent, so the client sees the connection closed without a response.
fn dropped_connection() -> HttpResponse {
    let failing = futures_util::stream::once(async {
        Err::<web::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "jsm-sim: connection dropped on purpose",
        ))
    });
    HttpResponse::Ok().streaming(failing)
}
