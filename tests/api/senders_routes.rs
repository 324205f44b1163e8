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
    // An HMAC scheme ignores the unsigned header: the signed webhook-id is the key.
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
    assert_eq!(body["idempotencyKey"], "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
    // A `header` source keeps honouring it.
    let zapier = all.iter().find(|s| s.source.id == "zapier").unwrap();
    let response = deliver(
        &app,
        zapier,
        &zapier.body,
        Some((&zapier.body, zapier.secret, now_ms())),
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
async fn a_captured_hmac_delivery_resent_under_new_idempotency_keys_is_a_replay() {
    let app = app_with(|_| {}).await;
    let all = senders();
    for id in ["typeform", "hubspot"] {
        let Some(s) = all.iter().find(|s| s.source.id.starts_with(id)) else {
            panic!("no {id} sender");
        };
        let captured = Some((&s.body[..], s.secret, now_ms()));
        let first = deliver(&app, s, &s.body, captured, &[("Idempotency-Key", "k-1")]).await;
        assert_eq!(first.status(), 201, "{id}");
        let first: Value = first.json().await.unwrap();
        for key in ["k-2", "k-3"] {
            let again = deliver(&app, s, &s.body, captured, &[("Idempotency-Key", key)]).await;
            assert_eq!(again.status(), 201, "{id}");
            assert_eq!(again.headers().get("Idempotent-Replayed").unwrap(), "true");
            let again: Value = again.json().await.unwrap();
            assert_eq!(again["id"], first["id"], "{id}");
        }
        assert_eq!(creates_for(&app, s.email), 1, "{id}");
    }
    app.stop().await;
}

#[tokio::test]
async fn jwt_sources_on_their_own_route_need_their_own_iss() {
    let app = app_with(|c| {
        c.sources.push(source(
            "partner",
            "partner-secret-0123456789abcdef-0123",
            TENANT,
        ))
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
    // A jti is bound to the key of its first signup on this route too.
    let jti_token = signup_bridge::auth::mint_hs256(
        SECRET,
        SOURCE,
        std::time::Duration::from_secs(300),
        Some("jti-route-1"),
        None,
    )
    .unwrap();
    let with_key = |key: &'static str| {
        app.client
            .post(url(&app, SOURCE))
            .bearer_auth(&jti_token)
            .header("Idempotency-Key", key)
            .json(&signup_body("jti.route@example.com", "Jo"))
            .send()
    };
    assert_eq!(with_key("key-a").await.unwrap().status(), 201);
    let reused = with_key("key-b").await.unwrap();
    assert_eq!(reused.status(), 401);
    let problem: Value = reused.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_token");
    assert_eq!(creates_for(&app, "jwt.route@example.com"), 1);
    assert_eq!(app.stored_signups().await, 2);
    app.stop().await;
}

#[tokio::test]
async fn the_rate_limit_counts_verified_deliveries_only() {
    let app = app_with(|c| {
        let zapier = c.sources.iter_mut().find(|s| s.id == "zapier").unwrap();
        zapier.rate_limit = Some(signup_bridge::config::RateLimitConfig {
            requests_per_second: 0.01,
            burst: 1,
        });
    })
    .await;
    let all = senders();
    let zapier = all.iter().find(|s| s.source.id == "zapier").unwrap();
    let forged = deliver(
        &app,
        zapier,
        &zapier.body,
        Some((&zapier.body, "forged-secret-0123456789", now_ms())),
        &[],
    )
    .await;
    assert_eq!(forged.status(), 401);
    let signed = Some((&zapier.body[..], zapier.secret, now_ms()));
    assert_eq!(
        deliver(&app, zapier, &zapier.body, signed, &[])
            .await
            .status(),
        201
    );
    let over = deliver(&app, zapier, &zapier.body, signed, &[]).await;
    assert_eq!(over.status(), 429);
    let problem: Value = over.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited");
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
        if status == 405 {
            assert_eq!(response.headers()["allow"], "POST", "{path}");
        }
        if let Some(code) = code {
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["code"], code, "{path}");
        }
    }
    assert_eq!(app.stored_signups().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn failed_verifications_are_limited_per_address_so_get_is_no_oracle() {
    let app = app_with(|_| {}).await;
    let limit = signup_bridge::auth::FAILURES_PER_MINUTE;
    let secret = super::vendors::PLAIN_SECRET;
    let get = |key: String| {
        app.client
            .get(format!(
                "{}/webhooks/signup/mailchimp?key={key}",
                app.address
            ))
            .send()
    };
    for n in 0..limit {
        let response = get(format!("guess-{n:016}")).await.unwrap();
        assert_eq!(response.status(), 401, "guess {n}");
    }
    let over = get("one-guess-too-many".into()).await.unwrap();
    assert_eq!(over.status(), 429);
    let retry_after: u64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let problem: Value = over.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited");
    // Refused before verifying: the right key tells the guesser nothing now either, on any route.
    assert_eq!(get(secret.to_string()).await.unwrap().status(), 429);
    let all = senders();
    let zapier = all.iter().find(|s| s.source.id == "zapier").unwrap();
    let signed = Some((&zapier.body[..], zapier.secret, now_ms()));
    let post = deliver(&app, zapier, &zapier.body, signed, &[]).await;
    assert_eq!(post.status(), 429);
    assert_eq!(app.stored_signups().await, 0);
    app.stop().await;
}
