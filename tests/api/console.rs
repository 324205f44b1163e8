//! The operator console's sign-in, sessions, refusals and headers (SPEC §18), over HTTP against
//! the real server. The session tests run on PostgreSQL too.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use signup_bridge::console::hashed;
use signup_bridge::domain::now_ms;

use crate::backends::also_on_postgres;
use crate::console_helpers::{ALICE, Console, console_app, set_cookie};
use crate::helpers::spawn_app;

const PAGES: [&str; 8] = [
    "/console/",
    "/console/signups",
    "/console/signups/some-id",
    "/console/bulk-retry",
    "/console/installations",
    "/console/sources",
    "/console/audit",
    "/console/signups?status=failed",
];
const POSTS: [&str; 4] = [
    "/console/logout",
    "/console/signups/x/retry",
    "/console/signups/x/reveal",
    "/console/bulk-retry",
];

fn assert_console_headers(response: &reqwest::Response, what: &str) {
    let h = response.headers();
    assert_eq!(
        h["content-security-policy"], "default-src 'self'; frame-ancestors 'none'",
        "{what}"
    );
    assert_eq!(h["referrer-policy"], "same-origin", "{what}");
    assert_eq!(h["cache-control"], "no-store", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
}

#[tokio::test]
async fn the_console_is_off_unless_enabled() {
    let app = spawn_app().await;
    let response = Console::new(&app).get("/console/").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn without_a_session_pages_redirect_to_login_and_api_clients_get_401() {
    let app = console_app(|_| {}).await;
    let console = Console::new(&app);
    for path in PAGES {
        let response = console.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()["location"], "/console/login", "{path}");
        assert_console_headers(&response, path);
        let json = console
            .client
            .get(format!("{}{path}", app.address))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(json.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(json.headers()["content-type"], "application/problem+json");
        let body: Value = json.json().await.unwrap();
        assert_eq!(body["code"], "unauthenticated", "{path}");
    }
    for path in POSTS {
        let response = console.post_raw(path, &[], &console.origin_headers()).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    }
    let root = console.get("/console").await;
    assert_eq!(root.headers()["location"], "/console/");
    app.stop().await;
}

#[tokio::test]
async fn every_console_answer_carries_the_security_headers() {
    let app = console_app(|_| {}).await;
    let console = Console::signed_in(&app, ALICE).await;
    for path in [
        "/console/login",
        "/console/console.css",
        "/console/nope",
        "/console/",
    ] {
        let response = console.get(path).await;
        assert_console_headers(&response, path);
    }
    let css = console.get("/console/console.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let wrong_method = console
        .client
        .put(format!("{}/console/login", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.headers()["allow"], "GET, POST");
    assert_console_headers(&wrong_method, "405");
    let forbidden = console
        .post_raw("/console/logout", &[], &HeaderMap::new())
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_console_headers(&forbidden, "403");
    // The page itself needs no inline script or style.
    let html = console.page("/console/").await;
    assert!(
        !html.contains("<script") && !html.contains("style="),
        "{html}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_token_login_makes_a_session_and_logout_ends_it() {
    let app = console_app(|_| {}).await;
    let mut console = Console::new(&app);
    let wrong = console
        .login("not-the-token-not-the-token-not-the-token")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&wrong).is_none());
    let response = console.login(ALICE).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&response).unwrap();
    for attribute in ["Path=/console", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "http on loopback: {cookie}");
    console.keep_cookie(&response);
    let html = console.page("/console/").await;
    assert!(
        html.contains("Signed in as <strong>alice</strong>"),
        "{html}"
    );
    // Only the hash of the session id is stored.
    let id = console.cookie.clone().unwrap();
    let id = id.split_once('=').unwrap().1;
    assert!(
        app.store
            .console_session(&hashed(id))
            .await
            .unwrap()
            .is_some()
    );
    let logout = console.post("/console/logout", &[]).await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&logout).unwrap().contains("Max-Age=0"));
    assert!(
        app.store
            .console_session(&hashed(id))
            .await
            .unwrap()
            .is_none()
    );
    let after = console.get("/console/").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    let audit = app.store.audit_page(None, 10).await.unwrap();
    let actions: Vec<_> = audit
        .iter()
        .map(|e| (e.who.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(actions, [("alice", "logout"), ("alice", "login")]);
    app.stop().await;
}

#[tokio::test]
async fn the_cookie_is_secure_unless_served_over_http_to_loopback() {
    let app = console_app(|_| {}).await;
    let console = Console::new(&app);
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("bridge.example.com"));
    headers.insert(
        "origin",
        HeaderValue::from_static("http://bridge.example.com"),
    );
    let response = console
        .post_raw("/console/login", &[("token", ALICE)], &headers)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&response).unwrap().contains("; Secure"));
    app.stop().await;
}

#[tokio::test]
async fn idle_and_expired_sessions_end() {
    let app = console_app(|_| {}).await;
    let mut console = Console::signed_in(&app, ALICE).await;
    let cookie = console.cookie.clone().unwrap();
    let id = cookie.split_once('=').unwrap().1.to_string();
    // Unused for longer than session_idle (30m by default).
    let idle = app.config.console.session_idle.as_millis() as i64;
    app.store
        .touch_console_session(&hashed(&id), now_ms() - idle - 1_000)
        .await
        .unwrap();
    let response = console.get("/console/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        app.store
            .console_session(&hashed(&id))
            .await
            .unwrap()
            .is_none()
    );
    // Used a moment ago, but past its absolute end.
    let now = now_ms();
    app.store
        .create_console_session(
            &hashed("an-old-session"),
            "alice",
            "token",
            now - 1_000,
            now - 1,
        )
        .await
        .unwrap();
    console.cookie = Some("console_session=an-old-session".into());
    assert_eq!(
        console.get("/console/").await.status(),
        StatusCode::SEE_OTHER
    );
    app.stop().await;
}

#[tokio::test]
async fn failed_logins_are_limited_per_address() {
    let app = console_app(|_| {}).await;
    let console = Console::new(&app);
    for i in 0..5 {
        let r = console
            .login(&format!("wrong-token-{i}-0123456789abcdef0123456789"))
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let blocked = console.login(ALICE).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.headers().contains_key("retry-after"));
    assert!(set_cookie(&blocked).is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_one_time_link_signs_in_once() {
    let app = console_app(|_| {}).await;
    app.store
        .save_login_link(&hashed("link-token-123"), "sandbox", now_ms() + 60_000)
        .await
        .unwrap();
    let mut console = Console::new(&app);
    let first = console
        .get("/console/login/link?token=link-token-123")
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    console.keep_cookie(&first);
    // A page of the console's own moves the browser on (a same-site request, so the
    // SameSite=Strict cookie goes along even when the link came from another site).
    assert!(
        first
            .text()
            .await
            .unwrap()
            .contains("content=\"0; url=/console/\"")
    );
    assert!(
        console
            .page("/console/")
            .await
            .contains("<strong>sandbox</strong>")
    );
    let again = Console::new(&app)
        .get("/console/login/link?token=link-token-123")
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&again).is_none());
    app.stop().await;
}

also_on_postgres!(
    a_token_login_makes_a_session_and_logout_ends_it,
    idle_and_expired_sessions_end,
    failed_logins_are_limited_per_address,
    a_one_time_link_signs_in_once,
);
