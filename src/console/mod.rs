//! The operator console (SPEC §18, docs/CONSOLE.md): server-rendered pages under `/console/`
//! for help-desk admins, a thin room on the store. Pages read through the store's queries and
//! act through the functions the CLI uses (`signups retry`), so both faces behave alike.
//!
//! The protocol it owns:
//! - Sign-in by an admin token on the login form (compared as SHA-256 digests in constant time),
//!   by a trusted proxy's user header (from `trusted_proxies` only), or by a one-time login link
//!   (the sandbox prints one; its token is spent by the first use and lives 30 minutes).
//! - A session is a random id in an `HttpOnly`, `SameSite=Strict`, `Path=/console` cookie
//!   (`Secure` unless served over http to a loopback host); the database keeps only its
//!   SHA-256, so every instance and a restart honour it. It ends after `session_idle` unused,
//!   `session_max` after sign-in, or at logout.
//! - Every POST carries the session's CSRF token (derived from the session id, never stored)
//!   and a same-origin `Origin` (or `Referer`); anything else is 403 and changes nothing.
//! - Failed sign-ins are limited per client address: 5 a minute, then 429.

mod assets;
mod audit;
mod bulk;
mod chart;
mod erase;
mod guard;
mod headers;
mod installations;
mod limiter;
mod login;
mod overview;
mod refusal;
mod rejections;
mod render;
mod session;
mod signup;
mod signups;
mod time;

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::web;
use sha2::{Digest, Sha256};

pub use limiter::FailedLogins;
pub use refusal::Refusal;
pub use rejections::{RejectionLog, rejections};
pub use session::LINK_TTL;

use crate::config::Config;
use crate::delivery::Engine;
use crate::store::Store;

/// Everything a console handler needs.
pub struct ConsoleState {
    pub config: Arc<Config>,
    pub store: Store,
    pub engine: Arc<Engine>,
    pub failed_logins: FailedLogins,
    /// (label, SHA-256 of the token) of every admin token.
    tokens: Vec<(String, [u8; 32])>,
    proxies: Vec<IpAddr>,
    /// The origin of `server.public_url`, when configured.
    public_origin: Option<String>,
}

impl ConsoleState {
    pub fn new(config: Arc<Config>, store: Store, engine: Arc<Engine>) -> Self {
        let tokens = config
            .console
            .admin_tokens
            .iter()
            .map(|t| (t.label.trim().to_string(), digest(t.token.expose())))
            .collect();
        let public_origin = config
            .server
            .public_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| u.origin().ascii_serialization());
        Self {
            proxies: config.console.proxy_addresses(),
            config,
            store,
            engine,
            failed_logins: FailedLogins::default(),
            tokens,
            public_origin,
        }
    }
}

/// SHA-256 of `value`.
fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

/// Hex SHA-256 of `value`: how session ids and link tokens are stored.
pub fn hashed(value: &str) -> String {
    hex::encode(digest(value))
}

/// Register the console's routes under `/console` when `state` is set (console enabled).
pub fn routes(state: Option<web::Data<ConsoleState>>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let Some(state) = state else { return };
        let get = web::get;
        let post = web::post;
        let scope = web::scope("/console")
            .app_data(state)
            .wrap(actix_web::middleware::from_fn(headers::secure))
            .service(web::resource("").route(get().to(login::to_root)))
            .service(resource("/", "GET", vec![get().to(overview::page)]))
            .service(resource("/console.css", "GET", vec![get().to(assets::css)]))
            .service(resource(
                "/login",
                "GET, POST",
                vec![get().to(login::form), post().to(login::submit)],
            ))
            .service(resource("/login/link", "GET", vec![get().to(login::link)]))
            .service(resource("/logout", "POST", vec![post().to(login::logout)]))
            .service(resource("/signups", "GET", vec![get().to(signups::list)]))
            .service(resource(
                "/signups/{id}",
                "GET",
                vec![get().to(signup::page)],
            ))
            .service(resource(
                "/signups/{id}/retry",
                "POST",
                vec![post().to(signup::retry)],
            ))
            .service(resource(
                "/signups/{id}/erase",
                "GET, POST",
                vec![get().to(erase::confirm), post().to(erase::erase)],
            ))
            .service(resource(
                "/signups/{id}/reveal",
                "POST",
                vec![post().to(signup::reveal)],
            ))
            .service(resource(
                "/bulk-retry",
                "GET, POST",
                vec![get().to(bulk::preview), post().to(bulk::confirm)],
            ))
            .service(resource(
                "/installations",
                "GET",
                vec![get().to(installations::page)],
            ))
            .service(resource(
                "/sources",
                "GET",
                vec![get().to(installations::sources)],
            ))
            .service(resource("/audit", "GET", vec![get().to(audit::page)]))
            .default_service(web::to(refusal::not_found));
        cfg.service(scope);
    }
}

/// One console path: its routes, and 405 problem+json naming `allow` for other methods.
fn resource(path: &str, allow: &'static str, routes: Vec<actix_web::Route>) -> actix_web::Resource {
    let mut r = web::resource(path);
    for route in routes {
        r = r.route(route);
    }
    r.default_service(web::to(move || refusal::method_not_allowed(allow)))
}
