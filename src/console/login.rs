//! Sign-in and sign-out: the login form (admin tokens), the trusted proxy's user header, the
//! one-time login link, and logout.

use std::net::IpAddr;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::guard::{check_post, same_origin};
use super::refusal::see_other;
use super::render::{Chrome, html};
use super::session::{Operator, clear_cookie, current, sign_in, state_of};
use super::{ConsoleState, Refusal, digest, hashed};
use crate::domain::now_ms;
use crate::store::AuditAction;

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    chrome: Chrome,
    /// Why the last attempt failed, if it did.
    error: Option<String>,
    /// Whether the form is offered at all (admin tokens configured).
    tokens: bool,
}

fn login_page(
    status: StatusCode,
    error: Option<String>,
    state: &ConsoleState,
) -> Result<HttpResponse, Refusal> {
    let page = LoginPage {
        chrome: Chrome::signed_out("Sign in"),
        error,
        tokens: !state.tokens.is_empty(),
    };
    html(status, &page)
}

/// `/console` → `/console/`.
pub async fn to_root() -> HttpResponse {
    see_other("/console/")
}

/// GET /console/login: the form; a signed-in browser goes on to the overview, and a request
/// through a trusted proxy carrying its user header signs that user in.
pub async fn form(req: HttpRequest) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    if current(&req, &state).await?.is_some() {
        return Ok(see_other("/console/"));
    }
    if let Some(user) = proxy_user(&req, &state) {
        return sign_in(&req, &state, &user, "proxy").await;
    }
    login_page(StatusCode::OK, None, &state)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
}

/// POST /console/login: check the token against every admin token (SHA-256 digests compared
/// in constant time, all of them, whichever matches).
pub async fn submit(req: HttpRequest, form: web::Form<LoginForm>) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    same_origin(&req, &state)?;
    let ip = client_ip(&req, &state);
    if let Some(secs) = ip.and_then(|ip| state.failed_logins.blocked(ip)) {
        return too_many(&state, secs);
    }
    let presented = digest(form.token.trim());
    let mut label = None;
    for (name, expected) in &state.tokens {
        if bool::from(presented.ct_eq(expected)) {
            label = Some(name.clone());
        }
    }
    match label {
        Some(label) => sign_in(&req, &state, &label, "token").await,
        None => {
            failed(&state, ip);
            login_page(
                StatusCode::UNAUTHORIZED,
                Some("That token is not an admin token of this console.".into()),
                &state,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

/// GET /console/login/link?token=…: spend a one-time login link (the sandbox prints one) and
/// sign in; the redirect takes the token out of the address bar.
pub async fn link(req: HttpRequest, query: web::Query<LinkQuery>) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    let ip = client_ip(&req, &state);
    if let Some(secs) = ip.and_then(|ip| state.failed_logins.blocked(ip)) {
        return too_many(&state, secs);
    }
    match state
        .store
        .spend_login_link(&hashed(&query.token), now_ms())
        .await?
    {
        Some(who) => sign_in(&req, &state, &who, "link").await,
        None => {
            failed(&state, ip);
            login_page(
                StatusCode::UNAUTHORIZED,
                Some("That login link was used already or has expired.".into()),
                &state,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// POST /console/logout: end the session and forget the cookie.
pub async fn logout(
    req: HttpRequest,
    operator: Operator,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    check_post(&req, &state, &operator, &form.csrf)?;
    state.store.end_console_session(operator.id_hash()).await?;
    state
        .store
        .audit(&operator.who, AuditAction::Logout, &[], None)
        .await?;
    let mut response = see_other("/console/login");
    if let Ok(value) = header::HeaderValue::from_str(&clear_cookie(&req)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

fn too_many(state: &ConsoleState, retry_after_secs: u64) -> Result<HttpResponse, Refusal> {
    let mut response = login_page(
        StatusCode::TOO_MANY_REQUESTS,
        Some("Too many failed sign-ins from this address; wait a minute.".into()),
        state,
    )?;
    if let Ok(value) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Ok(response)
}

fn failed(state: &ConsoleState, ip: Option<IpAddr>) {
    tracing::warn!(client = ?ip, "console sign-in refused");
    if let Some(ip) = ip {
        state.failed_logins.record(ip);
    }
}

/// The user a trusted proxy vouches for: `trusted_header`, believed only when the peer is one
/// of `trusted_proxies`.
fn proxy_user(req: &HttpRequest, state: &ConsoleState) -> Option<String> {
    let name = state.config.console.trusted_header.as_deref()?;
    let peer = req.peer_addr()?.ip();
    if !state.proxies.contains(&peer) {
        return None;
    }
    let user = req.headers().get(name)?.to_str().ok()?.trim();
    let valid = !user.is_empty() && user.len() <= 128 && !user.chars().any(char::is_control);
    valid.then(|| user.to_string())
}

/// The client's address: the peer, or the last `X-Forwarded-For` hop a trusted proxy added.
pub fn client_ip(req: &HttpRequest, state: &ConsoleState) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !state.proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok());
    Some(forwarded.unwrap_or(peer))
}
