//! The JSM side of the HTTP server: log, fault, rate limit, authenticate, route, delay.
//!
//! Order for each request: it is logged as it arrives; paths outside the context path are
//! 404; a queued fault is taken (a fault that does not process the request answers at once);
//! then the token bucket (429, no effect), authentication (401, no effect) and the route.
//! The configured latency (plus a Delay fault's) is slept before the answer, and the answer
//! is recorded in the log. A Drop closes the connection before any byte of the response is
//! written, so the client sees the connection closed, not a status.

use super::auth::{AuthInput, authenticate};
use super::faults::FaultAction;
use super::reply::Reply;
use super::routes::{JsmRequest, handle};
use super::state::{LoggedRequest, SimState, unix_ms};
use crate::auth::qsh::relative_path;
use actix_web::http::StatusCode;
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
    let seq = log_incoming(&state, &req, &body);
    let (outcome, extra_delay) = process(&state, &req, &body);
    let delay = state.latency() + extra_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match outcome {
        Outcome::Reply(reply) => {
            state.log_response(seq, Some(reply.status));
            to_http(reply)
        }
        Outcome::Drop => {
            state.log_response(seq, None);
            dropped_connection()
        }
    }
}

fn process(state: &SimState, req: &HttpRequest, body: &[u8]) -> (Outcome, Duration) {
    let config = state.config();
    let context = config.normalised_context_path();
    let Some(relative) = relative_path(&context, req.path()) else {
        return (Outcome::Reply(Reply::not_found()), Duration::ZERO);
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
                Outcome::Reply(Reply::injected(status, retry_after)),
                Duration::ZERO,
            );
        }
        Some(FaultAction::Drop {
            process_first: false,
        }) => return (Outcome::Drop, Duration::ZERO),
        _ => {}
    }
    let reply = normal(state, req, relative, body);
    match fault {
        Some(FaultAction::Status {
            status,
            retry_after,
            ..
        }) => (
            Outcome::Reply(Reply::injected(status, retry_after)),
            Duration::ZERO,
        ),
        Some(FaultAction::Drop { .. }) => (Outcome::Drop, Duration::ZERO),
        Some(FaultAction::Delay { ms }) => (Outcome::Reply(reply), Duration::from_millis(ms)),
        None => (Outcome::Reply(reply), Duration::ZERO),
    }
}

fn normal(state: &SimState, req: &HttpRequest, relative: &str, body: &[u8]) -> Reply {
    if let Err(retry_after) = state.take_token() {
        return Reply::rate_limited(retry_after);
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let input = AuthInput {
        authorization: header("authorization"),
        method: req.method().as_str(),
        relative_path: relative,
        raw_query: req.query_string(),
    };
    let oauth_token_live = |token: &str| state.oauth_token_live(token);
    let installed = state.installed_apps();
    if let Err(why) = authenticate(state.config(), &installed, &oauth_token_live, &input) {
        tracing::debug!(reason = %why, "jsm-sim: rejected credentials");
        return Reply::unauthorized();
    }
    handle(
        state,
        &JsmRequest {
            method: req.method().as_str(),
            path: relative,
            query: req.query_string(),
            content_type: header("content-type"),
            body,
        },
    )
}

fn to_http(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    if let Some(secs) = reply.retry_after {
        builder.insert_header(("Retry-After", secs.to_string()));
    }
    match reply.body {
        Some(body) => builder.json(body),
        None => builder.finish(),
    }
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
