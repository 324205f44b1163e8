//! A source's own route beyond the signature: the idempotency key's precedence, JWT sources
//! on their own route, and `GET` for `query` sources (Mailchimp's URL validation).

use serde_json::Value;

use super::helpers::*;
use super::senders::{app_with, creates_for, deliver, now_ms, url};
use super::vendors::{WHSEC, senders};

#[tokio::test]
async fn key_precedence_header_then_scheme_id_and_unfit_values_are_hashed() {
    let app = app_with(|_| {}).await;
    let all = senders();
    let svix = all.iter().find(|s| s.source.id == "svix").unwrap();
    let response = deliver(
        &app,
        svix,
        &svix.body,
        Some((&svix.body, WHSEC, now_ms())),
        &[("Idempotency-Key", "from-header")],
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["idempotencyKey"], "from-header");

    let stripe = all.iter().find(|s| s.source.id == "stripe").unwrap();
    let event = br#"{"id":"evt with spaces","data":{"object":{"email":"spaced@example.com"}}}"#;
    let response = deliver(
        &app,
        stripe,
        event,
        Some((event, stripe.secret, now_ms())),
        &[],
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    use sha2::Digest as _;
    let hashed = format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(b"evt with spaces"))
    );
    assert_eq!(body["idempotencyKey"], hashed.as_str());
    app.stop().await;
}

#[tokio::test]
async fn jwt_sources_on_their_own_route_need_their_own_iss() {
    let app = app_with(|c| {
        c.sources
            .push(source("partner", "partner-secret-0123456789abcdef", TENANT))
    })
    .await;
    let post = |id: &str, token: String| {
        app.client
            .post(url(&app, id))
            .bearer_auth(token)
            .json(&signup_body("jwt.route@example.com", "Jay"))
            .send()
    };
    let ok = post(SOURCE, token_for(SOURCE, SECRET)).await.unwrap();
    assert_eq!(ok.status(), 201);
    let other = post("partner", token_for(SOURCE, SECRET)).await.unwrap();
    assert_eq!(other.status(), 401);
    let problem: Value = other.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_token");
    // A signature source's secret never verifies a JWT, on either route.
    let forged = token_for("zapier", super::vendors::PLAIN_SECRET);
    let response = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(&forged)
        .json(&signup_body("forged@example.com", "F"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(creates_for(&app, "jwt.route@example.com"), 1);
    assert_eq!(app.stored_signups().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn get_validates_a_query_sources_url_only() {
    let app = app_with(|_| {}).await;
    let secret = super::vendors::PLAIN_SECRET;
    let get = |path: String| app.client.get(format!("{}{path}", app.address)).send();
    let cases = [
        (
            format!("/webhooks/signup/mailchimp?key={secret}"),
            200,
            None,
        ),
        (
            "/webhooks/signup/mailchimp?key=wrong-key-0123456789".to_string(),
            401,
            Some("invalid_signature"),
        ),
        (
            "/webhooks/signup/mailchimp".to_string(),
            401,
            Some("invalid_signature"),
        ),
        (
            format!("/webhooks/signup/typeform?key={secret}"),
            405,
            Some("method_not_allowed"),
        ),
        (
            "/webhooks/signup/nobody".to_string(),
            404,
            Some("not_found"),
        ),
    ];
    for (path, status, code) in cases {
        let response = get(path.clone()).await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        if let Some(code) = code {
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["code"], code, "{path}");
        }
    }
    assert_eq!(app.stored_signups().await, 0);
    app.stop().await;
}
