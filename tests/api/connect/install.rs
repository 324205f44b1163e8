//! The descriptor and the security of signed installs: every spoiled token is 401 and
//! stores nothing; the unspoiled one, built by the same helper, is 204.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use signup_bridge::sim::InstallerKey;

use super::*;

const INSTALLED: &str = "/lifecycle/installed";

#[tokio::test]
async fn descriptor_names_the_app_and_its_lifecycle() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    let response = app
        .client
        .get(format!("{}/atlassian-connect.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let d: Value = response.json().await.unwrap();
    assert_eq!(d["key"], app.config.connect.app_key);
    assert_eq!(d["name"], app.config.connect.app_name);
    assert_eq!(d["baseUrl"], app.address);
    assert_eq!(d["authentication"]["type"], "jwt");
    assert!(d["scopes"].as_array().unwrap().contains(&json!("ADMIN")));
    for event in ["installed", "uninstalled", "enabled", "disabled"] {
        assert_eq!(d["lifecycle"][event], format!("/lifecycle/{event}"));
    }
    assert_eq!(
        d["apiMigrations"],
        json!({"signed-install": true, "context-qsh": true})
    );
    app.stop().await;
}

#[tokio::test]
async fn spoiled_install_tokens_are_401_and_store_nothing() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    let key = shared_key();
    let other = InstallerKey::generate().unwrap();
    let body = install_payload(&app, CLIENT_KEY, "a-secret");
    let good = install_claims(&app, CLIENT_KEY, INSTALLED);
    let with = |field: &str, value: Value| {
        let mut claims = good.clone();
        claims[field] = value;
        claims
    };
    let now = signup_bridge::domain::now_ms() / 1000;
    let hs256 = encode(
        &Header::new(Algorithm::HS256),
        &good,
        &EncodingKey::from_secret(b"a-secret"),
    )
    .unwrap();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("unsigned", None),
        ("HS256 with the body's sharedSecret", Some(hs256)),
        (
            "aud mismatch",
            Some(
                key.sign(&with("aud", json!("https://other.example.com")))
                    .unwrap(),
            ),
        ),
        (
            "iss is not the body's clientKey",
            Some(key.sign(&with("iss", json!("client-9999"))).unwrap()),
        ),
        (
            "key from another keypair",
            Some(other.sign_as(&good, key.kid()).unwrap()),
        ),
        (
            "expired",
            Some(key.sign(&with("exp", json!(now - 3600))).unwrap()),
        ),
        (
            "unknown kid",
            Some(key.sign_as(&good, "jsm-sim-unknown").unwrap()),
        ),
        (
            "wrong qsh",
            Some(
                key.sign(&with(
                    "qsh",
                    json!(qsh("POST", "/lifecycle/uninstalled", "")),
                ))
                .unwrap(),
            ),
        ),
        (
            "no qsh",
            Some(
                key.sign(
                    &good
                        .as_object()
                        .map(|o| {
                            let mut o = o.clone();
                            o.remove("qsh");
                            Value::Object(o)
                        })
                        .unwrap(),
                )
                .unwrap(),
            ),
        ),
    ];
    for (why, token) in &cases {
        let response = post_lifecycle(&app, INSTALLED, token.as_deref(), &body).await;
        assert_eq!(response.status(), 401, "{why}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_token", "{why}");
        assert!(
            installations(&app).await.is_empty(),
            "{why} stored something"
        );
    }
    // The same helper, unspoiled: accepted, so each case above failed for its own reason.
    let response = post_lifecycle(&app, INSTALLED, Some(&key.sign(&good).unwrap()), &body).await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        state_of(&app, CLIENT_KEY).await.as_deref(),
        Some("installed")
    );
    app.stop().await;
}

#[tokio::test]
async fn aud_accepts_a_string_and_ignores_a_trailing_slash() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    let mut claims = install_claims(&app, CLIENT_KEY, INSTALLED);
    claims["aud"] = json!(format!("{}/", app.address));
    let body = install_payload(&app, CLIENT_KEY, "a-secret");
    let token = shared_key().sign(&claims).unwrap();
    let response = post_lifecycle(&app, INSTALLED, Some(&token), &body).await;
    assert_eq!(response.status(), 204);
    app.stop().await;
}

#[tokio::test]
async fn a_plain_http_site_is_refused_unless_loopback() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    let mut body = install_payload(&app, CLIENT_KEY, "a-secret");
    body["baseUrl"] = json!("http://acme.atlassian.net");
    let token = shared_key()
        .sign(&install_claims(&app, CLIENT_KEY, INSTALLED))
        .unwrap();
    let response = post_lifecycle(&app, INSTALLED, Some(&token), &body).await;
    assert_eq!(response.status(), 400);
    assert!(installations(&app).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_shared_secret_install_cannot_replace_a_signed_one() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    assert_eq!(
        lifecycle(&app, "installed", CLIENT_KEY, Some("first"))
            .await
            .status,
        204
    );
    // Signed with the stored secret, as pre-signed-install Jira did: still refused.
    let claims = install_claims(&app, CLIENT_KEY, INSTALLED);
    let token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"first"),
    )
    .unwrap();
    let body = install_payload(&app, CLIENT_KEY, "attacker-secret");
    let response = post_lifecycle(&app, INSTALLED, Some(&token), &body).await;
    assert_eq!(response.status(), 401);
    // Calls are still signed with the first secret: the simulator trusts only that one.
    assert_eq!(shop_signup(&app, "first@example.com").await.status(), 201);
    app.stop().await;
}

crate::backends::also_on_postgres!(
    descriptor_names_the_app_and_its_lifecycle,
    spoiled_install_tokens_are_401_and_store_nothing,
    aud_accepts_a_string_and_ignores_a_trailing_slash,
    a_plain_http_site_is_refused_unless_loopback,
    a_shared_secret_install_cannot_replace_a_signed_one
);
