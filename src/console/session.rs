//! Console sessions: the cookie, its lookup (with the idle and absolute timeouts) and sign-in.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use base64::Engine as _;
use rand::RngCore;

use super::{ConsoleState, Refusal, hashed};
use crate::domain::now_ms;
use crate::store::AuditAction;

/// The session cookie's name.
pub const COOKIE: &str = "console_session";
/// How long a one-time login link stays valid.
pub const LINK_TTL: Duration = Duration::from_secs(30 * 60);

/// A signed-in operator: a page handler taking one cannot run without a session.
pub struct Operator {
    /// The admin token's label or the proxy's user, as the audit log names them.
    pub who: String,
    /// The token every POST of this session must carry.
    pub csrf: String,
    id_hash: String,
}

impl Operator {
    pub fn id_hash(&self) -> &str {
        &self.id_hash
    }
}

impl FromRequest for Operator {
    type Error = Refusal;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Refusal>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req)?;
            current(&req, &state)
                .await?
                .ok_or_else(|| Refusal::no_session(&req))
        })
    }
}

/// The console state of a request under `/console`.
pub fn state_of(req: &HttpRequest) -> Result<web::Data<ConsoleState>, Refusal> {
    req.app_data::<web::Data<ConsoleState>>()
        .cloned()
        .ok_or_else(|| Refusal::Internal(anyhow::anyhow!("console state missing")))
}

/// The request's live session, if any; an expired one is ended on the way.
pub async fn current(req: &HttpRequest, state: &ConsoleState) -> Result<Option<Operator>, Refusal> {
    let Some(id) = cookie(req, COOKIE) else {
        return Ok(None);
    };
    let id_hash = hashed(&id);
    let Some(session) = state.store.console_session(&id_hash).await? else {
        return Ok(None);
    };
    let now = now_ms();
    let idle = state.config.console.session_idle.as_millis() as i64;
    if now >= session.expires_at || now - session.last_seen_at >= idle {
        state.store.end_console_session(&id_hash).await?;
        return Ok(None);
    }
    // One write a minute at most (sooner for short idle timeouts), not one per page.
    if now - session.last_seen_at >= (idle / 2).min(60_000) {
        state.store.touch_console_session(&id_hash, now).await?;
    }
    Ok(Some(Operator {
        who: session.who,
        csrf: csrf_of(&id),
        id_hash,
    }))
}

/// A session's CSRF token: derived from its id, so nothing more is stored.
pub fn csrf_of(session_id: &str) -> String {
    hashed(&format!("csrf:{session_id}"))
}

/// Start a session for `who` (signed in `via` token, proxy or link), audit the sign-in and
/// send the browser to the overview with the session cookie.
pub async fn sign_in(
    req: &HttpRequest,
    state: &ConsoleState,
    who: &str,
    via: &str,
) -> Result<HttpResponse, Refusal> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = now_ms();
    let max = state.config.console.session_max;
    state
        .store
        .create_console_session(&hashed(&id), who, via, now, now + max.as_millis() as i64)
        .await?;
    state
        .store
        .audit(who, AuditAction::Login, &[], Some(via))
        .await?;
    tracing::info!(who = %who, via = %via, "console sign-in");
    let cookie = (header::SET_COOKIE, set_cookie(req, &id, max.as_secs()));
    if via == "link" {
        // A link opened from another site (a chat, a mail) is a cross-site navigation: the
        // browser would not send the new SameSite=Strict cookie along a redirect of it. A page
        // of our own that moves on by itself (no script) makes the next request same-site.
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header(cookie)
            .body(LANDING));
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/"))
        .insert_header(cookie)
        .finish())
}

/// What a one-time login link answers once it signed the browser in.
const LANDING: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"refresh\" content=\"0; url=/console/\"><title>Signed in</title>\
<link rel=\"stylesheet\" href=\"/console/console.css\"></head><body><main id=\"main\">\
<p>Signed in. <a href=\"/console/\">Continue to the console</a>.</p></main></body></html>";

/// The `Set-Cookie` value for session `id`.
pub fn set_cookie(req: &HttpRequest, id: &str, max_age_secs: u64) -> String {
    let secure = if secure(req) { "; Secure" } else { "" };
    format!(
        "{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(req: &HttpRequest) -> String {
    set_cookie(req, "", 0)
}

/// `Secure` unless the console is served over plain http to a loopback host (local use,
/// where a browser would not send a Secure cookie back).
fn secure(req: &HttpRequest) -> bool {
    let info = req.connection_info();
    let host = info.host();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !(info.scheme() == "http" && loopback)
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}
