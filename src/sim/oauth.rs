//! An OAuth 2.0 token endpoint (RFC 6749 §4.4, client credentials) beside the JSM API,
//! outside the context path like every `/_sim/` route:
//!
//! - `POST /_sim/oauth/token`, form-encoded `grant_type=client_credentials`, `client_id`,
//!   `client_secret` (or the client in HTTP Basic, RFC 6749 §2.3.1): for a configured client,
//!   200 `{"access_token", "token_type": "Bearer", "expires_in"}` with a random token the JSM
//!   routes accept as Bearer until it expires (`SimConfig::oauth_token_ttl`); otherwise the
//!   RFC's error body: 400 `invalid_request` / `unsupported_grant_type`, 401 `invalid_client`.
//! - `POST /_sim/oauth/revoke`: every issued token stops working (a test forcing a JSM 401).
//! - `GET /_sim/oauth`: `{"tokenRequests", "liveTokens"}`.
//!
//! The token endpoint answers after the simulator's latency, like the JSM routes (so a test
//! can keep a fetch in flight). Issued tokens and the request count survive `/_sim/reset`, like installed Connect apps:
//! a bridge keeps using the token it holds.

use super::state::SimState;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::json;
use std::collections::HashMap;
use std::time::Instant;

/// The tokens the endpoint issued, and how often it was asked.
#[derive(Default)]
pub(crate) struct OAuthTokens {
    /// token → (expiry, client id).
    issued: HashMap<String, (Instant, String)>,
    requests: u64,
}

/// Registers the OAuth routes (inside the `/_sim` scope).
pub(crate) fn routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .route("/oauth/token", web::post().to(token))
        .route("/oauth/revoke", web::post().to(revoke))
        .route("/oauth", web::get().to(summary))
}

impl SimState {
    /// How many requests `POST /_sim/oauth/token` received (granted or not).
    pub fn oauth_token_requests(&self) -> u64 {
        self.lock().oauth.requests
    }

    /// Makes every issued access token invalid.
    pub fn revoke_oauth_tokens(&self) {
        self.lock().oauth.issued.clear();
    }

    /// The client a token was issued to, when it was issued here and has not expired or
    /// been revoked.
    pub(crate) fn oauth_token_client(&self, token: &str) -> Option<String> {
        self.lock()
            .oauth
            .issued
            .get(token)
            .filter(|(expires, _)| Instant::now() < *expires)
            .map(|(_, client)| client.clone())
    }
}

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    let mut response = HttpResponse::build(status);
    if status == actix_web::http::StatusCode::UNAUTHORIZED {
        response.insert_header(("WWW-Authenticate", "Basic realm=\"jsm-sim\""));
    }
    response
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({"error": error, "error_description": description}))
}

/// The client's credentials: from HTTP Basic, else from the form.
fn client_credentials(
    req: &HttpRequest,
    form: &HashMap<String, String>,
) -> Option<(String, String)> {
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|raw| {
            raw.split_once(':')
                .map(|(i, s)| (i.to_string(), s.to_string()))
        });
    basic.or_else(|| {
        Some((
            form.get("client_id")?.clone(),
            form.get("client_secret")?.clone(),
        ))
    })
}

async fn token(req: HttpRequest, body: web::Bytes, state: web::Data<SimState>) -> HttpResponse {
    state.lock().oauth.requests += 1;
    let latency = state.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let form_encoded = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return oauth_error(400, "invalid_request", "expected a form-encoded body");
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => return oauth_error(400, "unsupported_grant_type", "client_credentials only"),
        None => return oauth_error(400, "invalid_request", "grant_type is required"),
    }
    let Some((id, secret)) = client_credentials(&req, &form) else {
        return oauth_error(401, "invalid_client", "no client credentials");
    };
    let config = state.config();
    if !config
        .oauth_clients
        .iter()
        .any(|(i, s)| *i == id && *s == secret)
    {
        return oauth_error(401, "invalid_client", "client authentication failed");
    }
    let ttl = config.oauth_token_ttl;
    let access_token = format!(
        "sim-oauth-{}",
        Alphanumeric.sample_string(&mut rand::rng(), 40)
    );
    {
        let now = Instant::now();
        let mut inner = state.lock();
        inner.oauth.issued.retain(|_, (expires, _)| now < *expires);
        inner
            .oauth
            .issued
            .insert(access_token.clone(), (now + ttl, id.clone()));
    }
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
        }))
}

async fn revoke(state: web::Data<SimState>) -> HttpResponse {
    state.revoke_oauth_tokens();
    HttpResponse::NoContent().finish()
}

async fn summary(state: web::Data<SimState>) -> HttpResponse {
    let now = Instant::now();
    let inner = state.lock();
    let live = inner
        .oauth
        .issued
        .values()
        .filter(|(e, _)| now < *e)
        .count();
    HttpResponse::Ok().json(json!({"tokenRequests": inner.oauth.requests, "liveTokens": live}))
}
