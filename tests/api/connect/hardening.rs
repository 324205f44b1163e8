//! Lifecycle hardening: the per-address install-key budget (503, never 401), single-use
//! install tokens, allowed Jira hosts, the app key, slow bodies (408) and enabled/disabled
//! answers that do not tell whether a clientKey exists.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use signup_bridge::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

const INSTALLED: &str = "/lifecycle/installed";
const ENABLED: &str = "/lifecycle/enabled";

async fn problem(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The stored sharedSecret and baseUrl of `client_key`.
async fn stored(app: &TestApp, client_key: &str) -> Option<(String, String)> {
    let store = Store::open(&app.config.database.url).await.unwrap();
    let found = store.installation(client_key).await.unwrap();
    store.close().await;
    found.map(|i| {
        let secret = i.shared_secret.map(|s| s.expose().to_string());
        (secret.unwrap_or_default(), i.base_url)
    })
}

#[tokio::test]
async fn forged_installs_spend_their_address_budget_and_get_503_not_401() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    // A genuine install first: its key is cached from then on.
    let first = lifecycle(&app, "installed", CLIENT_KEY, Some("first")).await;
    assert_eq!(first.status, 204);
    let claims = install_claims(&app, CLIENT_KEY, INSTALLED);
    let body = install_payload(&app, CLIENT_KEY, "forged");
    let mut busy = None;
    for i in 0..40 {
        let token = shared_key()
            .sign_as(&claims, &format!("forged-{i}"))
            .unwrap();
        let response = post_lifecycle(&app, INSTALLED, Some(&token), &body).await;
        if response.status() == 503 {
            busy = Some(response);
            break;
        }
        assert_eq!(response.status(), 401, "forged install {i}");
    }
    let busy = busy.expect("the address's fetch budget ran out");
    let retry_after: u64 = busy.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let (_, body) = problem(busy).await;
    assert_eq!(body["code"], "install_keys_busy");
    // Nothing forged was stored, and a genuine re-install (a cached key) still goes through.
    assert_eq!(stored(&app, CLIENT_KEY).await.unwrap().0, "first");
    let again = lifecycle(&app, "installed", CLIENT_KEY, Some("second")).await;
    assert_eq!(again.status, 204);
    assert_eq!(stored(&app, CLIENT_KEY).await.unwrap().0, "second");
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_install_token_is_401_and_changes_nothing() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    // No jti: the token itself is what is used once.
    let token = shared_key()
        .sign(&install_claims(&app, CLIENT_KEY, INSTALLED))
        .unwrap();
    let body = install_payload(&app, CLIENT_KEY, "first");
    let response = post_lifecycle(&app, INSTALLED, Some(&token), &body).await;
    assert_eq!(response.status(), 204);
    let before = stored(&app, CLIENT_KEY).await.unwrap();
    assert_eq!(before.0, "first");
    let mut replay = install_payload(&app, CLIENT_KEY, "attacker-secret");
    for base_url in [app.sim.base_url.clone(), "http://localhost:1".to_string()] {
        replay["baseUrl"] = json!(base_url);
        let (status, body) =
            problem(post_lifecycle(&app, INSTALLED, Some(&token), &replay).await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("invalid_token"))
        );
        assert_eq!(stored(&app, CLIENT_KEY).await.unwrap(), before);
    }
    app.stop().await;
}

#[tokio::test]
async fn install_bodies_need_this_apps_key_and_an_allowed_site() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    let token = shared_key()
        .sign(&install_claims(&app, CLIENT_KEY, INSTALLED))
        .unwrap();
    let good = install_payload(&app, CLIENT_KEY, "a-secret");
    let with = |field: &str, value: Option<Value>| {
        let mut body = good.clone();
        match value {
            Some(value) => body[field] = value,
            None => {
                body.as_object_mut().unwrap().remove(field);
            }
        }
        body
    };
    let cases = [
        ("no key", with("key", None)),
        (
            "another app's key",
            with("key", Some(json!("com.other.app"))),
        ),
        (
            "a foreign site",
            with("baseUrl", Some(json!("https://jira.evil.example.com"))),
        ),
        (
            "a look-alike site",
            with(
                "baseUrl",
                Some(json!("https://acme.atlassian.net.evil.example.com")),
            ),
        ),
    ];
    for (why, body) in &cases {
        let (status, problem) =
            problem(post_lifecycle(&app, INSTALLED, Some(&token), body).await).await;
        assert_eq!(status, 401, "{why}");
        assert_eq!(problem["code"], "invalid_token", "{why}");
        assert!(
            installations(&app).await.is_empty(),
            "{why} stored something"
        );
    }
    // The same token and body, unspoiled: accepted, so each case failed for its own reason.
    let response = post_lifecycle(&app, INSTALLED, Some(&token), &good).await;
    assert_eq!(response.status(), 204);
    app.stop().await;
}

#[tokio::test]
async fn enabled_and_disabled_refusals_do_not_tell_whether_a_client_key_exists() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    let installed = lifecycle(&app, "installed", CLIENT_KEY, Some("known-secret")).await;
    assert_eq!(installed.status, 204);
    for event in ["installed", "uninstalled"] {
        assert_eq!(
            lifecycle(&app, event, "client-gone", None).await.status,
            204
        );
    }
    let attempt = |client_key: &str, secret: &str| {
        let now = signup_bridge::domain::now_ms() / 1000;
        let claims = json!({"iss": client_key, "iat": now, "exp": now + 180,
            "qsh": qsh("POST", ENABLED, "")});
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        let body = json!({"key": app.config.connect.app_key, "clientKey": client_key});
        (token, body)
    };
    let mut answers = Vec::new();
    for (why, client_key) in [
        ("unknown", "client-never"),
        ("uninstalled", "client-gone"),
        ("wrong signature", CLIENT_KEY),
    ] {
        let (token, body) = attempt(client_key, "guessed-secret");
        let (status, problem) =
            problem(post_lifecycle(&app, ENABLED, Some(&token), &body).await).await;
        assert_eq!(status, 401, "{why}");
        answers.push((why, problem));
    }
    for (why, answer) in &answers[1..] {
        assert_eq!(answer, &answers[0].1, "{why} vs {}", answers[0].0);
    }
    // The right secret is accepted, so the refusals above were about the token.
    let (token, body) = attempt(CLIENT_KEY, "known-secret");
    let response = post_lifecycle(&app, ENABLED, Some(&token), &body).await;
    assert_eq!(response.status(), 204);
    app.stop().await;
}

#[tokio::test]
async fn a_lifecycle_body_that_stalls_is_answered_408() {
    let app = spawn_connect_app(
        "",
        |_| CLIENT_KEY.into(),
        |config| {
            config.delivery.inline_wait = Duration::from_millis(200);
            config.server.request_timeout = Duration::from_secs(1);
        },
    )
    .await;
    let addr = app.address.trim_start_matches("http://").to_string();
    for path in [
        INSTALLED,
        "/lifecycle/uninstalled",
        ENABLED,
        "/lifecycle/disabled",
    ] {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: 200\r\n\r\n{{\"clientKey\":"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // The rest of the body never comes; the answer must, well before this bound.
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
            .await
            .expect("an answer while the body stalls")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(
            answer.contains("application/problem+json"),
            "{path}: {answer}"
        );
    }
    app.stop().await;
}

crate::backends::also_on_postgres!(
    forged_installs_spend_their_address_budget_and_get_503_not_401,
    a_replayed_install_token_is_401_and_changes_nothing,
    install_bodies_need_this_apps_key_and_an_allowed_site,
    enabled_and_disabled_refusals_do_not_tell_whether_a_client_key_exists,
    a_lifecycle_body_that_stalls_is_answered_408
);
