//! The JSM API as a Forge app reaches it: under `/ex/jira/{cloudId}`, with `Authorization:
//! Bearer <app system token>` issued by this simulator for that cloudId (expired → 401,
//! another site's → 401). Its modes: 403 until N seconds after the install (an app account's
//! permissions lag the install event), and 429 with a `RateLimit-Reason` and `Retry-After` or
//! `X-RateLimit-Reset`. Requests are logged like every JSM request (the path as received).
//!
//! Any other credential under `/ex/jira/{cloudId}` is served by the common pipeline (see
//! `server`) as the API gateway: published fact (SPEC §17), OAuth 2.0 tokens work only here,
//! for the site's own cloudId (another cloudId: 401, as the gateway answers a token
//! without access to that site).

use std::time::{Duration, SystemTime};

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::identity::Caller;
use super::reply::{Lang, Reply};
use super::routes::{JsmRequest, handle};
use super::state::{SimState, unix_ms};

/// `/ex/jira/{cloud_id}/{tail}`.
pub(crate) async fn entry(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<SimState>,
) -> HttpResponse {
    let cloud_id = req
        .match_info()
        .get("cloud_id")
        .unwrap_or_default()
        .to_string();
    let tail = format!("/{}", req.match_info().get("tail").unwrap_or_default());
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let forge = is_forge_token(&state, authorization.as_deref());
    if !forge && state.cloud_id() == cloud_id {
        return super::server::serve(&state, &req, &body, Some(&tail), true).await;
    }
    let seq = super::server::log_incoming(&state, &req, &body);
    if !forge {
        // Another cloudId: no credential but a Forge token issued for it gets in.
        let lang = Lang::of(req.query_string(), state.lock().facts.language);
        state.log_response(seq, Some(401));
        let skew = state.lock().facts.clock_skew_secs;
        return Reply::unauthorized(lang).into_http(skew);
    }
    let (mut reply, extra) = answer(
        &state,
        &cloud_id,
        authorization.as_deref(),
        &tail,
        &req,
        &body,
    );
    let (near, skew) = {
        let inner = state.lock();
        (inner.forge.near_limit, inner.facts.clock_skew_secs)
    };
    state.log_response(seq, Some(reply.status));
    reply.headers.extend(extra);
    if near {
        reply.headers.push(("X-RateLimit-NearLimit", "true".into()));
    }
    reply.into_http(skew)
}

type Headers = Vec<(&'static str, String)>;

/// Whether the request carries a Bearer token the simulator issued as the Forge platform.
fn is_forge_token(state: &SimState, authorization: Option<&str>) -> bool {
    let Some(token) = bearer(authorization) else {
        return false;
    };
    state.lock().forge.tokens.iter().any(|t| t.token == token)
}

fn bearer(authorization: Option<&str>) -> Option<&str> {
    authorization
        .and_then(|h| h.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
}

fn answer(
    state: &SimState,
    cloud_id: &str,
    authorization: Option<&str>,
    tail: &str,
    req: &HttpRequest,
    body: &[u8],
) -> (Reply, Headers) {
    let now = unix_ms(SystemTime::now());
    let token = bearer(authorization);
    let lang = Lang::of(req.query_string(), state.lock().facts.language);
    {
        let mut inner = state.lock();
        let forge = &mut inner.forge;
        let refused = match token {
            None => Some("no bearer token"),
            Some(token) => match forge.token_cloud(token, now) {
                Ok(cloud) if cloud == cloud_id => None,
                Ok(_) => Some("the token was issued for another site"),
                Err(why) => Some(why),
            },
        };
        if let Some(why) = refused {
            tracing::debug!(reason = why, "jsm-sim: Forge call refused");
            return (Reply::unauthorized(lang), Vec::new());
        }
        if let (Some(window), Some(at)) = (forge.forbidden_for, forge.installed_at(cloud_id))
            && now < at + window.as_millis() as u64
        {
            let body =
                json!({"errorMessage": "You do not have permission to perform this operation."});
            return (Reply::json(403, body), Vec::new());
        }
        if let Some(limit) = forge.take_rate_limit() {
            let mut headers: Headers = vec![("RateLimit-Reason", limit.reason.clone())];
            let mut reply = Reply::json(429, json!({"errorMessage": "Rate limit exceeded."}));
            match limit.retry_after {
                Some(secs) => reply.retry_after = Some(secs),
                None => {
                    let at = SystemTime::now() + Duration::from_secs(limit.reset_in.unwrap_or(1));
                    headers.push((
                        "X-RateLimit-Reset",
                        humantime::format_rfc3339_seconds(at).to_string(),
                    ));
                }
            }
            return (reply, headers);
        }
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let reply = handle(
        state,
        &JsmRequest {
            method: req.method().as_str(),
            path: tail,
            query: req.query_string(),
            content_type: header("content-type"),
            experimental: header("x-experimentalapi")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("opt-in")),
            body,
            caller: &Caller::Forge,
            lang,
        },
    );
    (reply, Vec::new())
}
