//! Intake end to end: happy path, idempotency, concurrency, duplicates, fallbacks, form bodies.

use std::time::Duration;

use serde_json::{Value, json};

use super::helpers::*;

#[tokio::test]
async fn a_signup_becomes_one_customer_with_the_spec_body() {
    let app = spawn_app().await;
    let response = app
        .post_json(&signup_body("fred@example.com", "Fred F. User"))
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "created");
    assert_eq!(body["tenant"], TENANT);
    assert_eq!(body["email"], "fred@example.com");
    assert_eq!(body["displayName"], "Fred F. User");
    assert_eq!(body["attempts"], 1);
    assert_eq!(body["lastError"], Value::Null);
    assert_eq!(body["steps"], json!([{"name": "create", "state": "done"}]));
    assert!(
        body["idempotencyKey"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(
        body["customer"]["accountId"]
            .as_str()
            .unwrap()
            .starts_with("qm:")
    );
    for field in ["id", "createdAt", "updatedAt"] {
        assert!(body[field].is_string(), "{field}");
    }

    let creates = app.creates();
    assert_eq!(creates.len(), 1);
    let create = &creates[0];
    // Every JSM call asks for English messages (SPEC §17 rule 1).
    assert_eq!(
        create.query,
        "strictConflictStatusCode=true&requestLanguage=en-US"
    );
    assert_eq!(create.x_experimentalapi.as_deref(), Some("opt-in"));
    assert_eq!(create.accept.as_deref(), Some("application/json"));
    assert_eq!(create.content_type.as_deref(), Some("application/json"));
    use base64::Engine as _;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{JSM_EMAIL}:{JSM_TOKEN}"));
    assert_eq!(
        create.authorization.as_deref(),
        Some(format!("Basic {basic}").as_str())
    );
    let sent: Value = serde_json::from_str(&create.body).unwrap();
    assert_eq!(
        sent,
        json!({"email": "fred@example.com", "displayName": "Fred F. User"})
    );
    assert_eq!(app.sim.state().customers().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_same_idempotency_key_replays_and_never_creates_twice() {
    let app = spawn_app().await;
    let body = signup_body("fred@example.com", "Fred");
    let first = app
        .post(
            &body.to_string(),
            "application/json",
            &[("Idempotency-Key", "order-1")],
        )
        .await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();

    // The same key quoted as an RFC 8941 string is the same key.
    let again = app
        .post(
            &body.to_string(),
            "application/json",
            &[("Idempotency-Key", "\"order-1\"")],
        )
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);

    let other_name = signup_body("fred@example.com", "Someone Else");
    let reused = app
        .post(
            &other_name.to_string(),
            "application/json",
            &[("Idempotency-Key", "order-1")],
        )
        .await;
    assert_eq!(reused.status(), 422);
    assert_eq!(reused.headers()["content-type"], "application/problem+json");
    let problem: Value = reused.json().await.unwrap();
    assert_eq!(problem["code"], "idempotency_key_reused");
    assert_eq!(app.creates().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_jti_is_the_key_when_no_header_is_sent() {
    let app = spawn_app().await;
    let token = signup_bridge::auth::mint_hs256(
        SECRET,
        SOURCE,
        Duration::from_secs(60),
        Some("jti-42"),
        None,
    )
    .unwrap();
    let send = |body: Value| {
        app.client
            .post(format!("{}/webhooks/signup", app.address))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let first = send(signup_body("jti@example.com", "J")).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["idempotencyKey"], "jti-42");
    let second = send(signup_body("jti@example.com", "J")).await.unwrap();
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let changed = send(signup_body("other@example.com", "J")).await.unwrap();
    assert_eq!(changed.status(), 422);
    assert_eq!(app.creates().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn an_identical_keyless_payload_is_one_signup() {
    let app = spawn_app().await;
    // Field order, whitespace, unknown fields and the name's source field do not matter.
    let a = r#"{"email":"Same@Example.com","displayName":"Sam","utm":"x"}"#;
    let b = r#"{ "name" : "Sam", "email" : " same@example.com " }"#;
    let first = app.post(a, "application/json", &[]).await;
    assert_eq!(first.status(), 201);
    let second = app.post(b, "application/json", &[]).await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(app.creates().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn twenty_concurrent_identical_requests_create_once() {
    let app = spawn_app().await;
    let body = signup_body("burst@example.com", "Burst").to_string();
    let requests =
        (0..20).map(|_| app.post(&body, "application/json", &[("Idempotency-Key", "burst")]));
    let responses = futures_util::future::join_all(requests).await;
    for response in &responses {
        let status = response.status().as_u16();
        assert!(matches!(status, 200..=299 | 409), "status {status}");
        if status == 409 {
            assert_eq!(response.headers()["retry-after"], "1");
        }
    }
    assert!(responses.iter().any(|r| r.status() == 201));
    assert_eq!(app.creates().len(), 1);
    assert_eq!(app.sim.state().customers().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_same_email_under_another_key_resolves_to_the_existing_customer() {
    let app = spawn_app().await;
    let first = app
        .post_json(&signup_body("Fred@Example.com", "Fred"))
        .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let second = app
        .post(
            &signup_body("fred@example.COM", "Fred").to_string(),
            "application/json",
            &[("Idempotency-Key", "k2")],
        )
        .await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["status"], "existing");
    assert_eq!(
        second["customer"]["accountId"],
        first["customer"]["accountId"]
    );
    assert_eq!(second["steps"][0]["state"], "done");
    assert_eq!(app.sim.state().customers().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn user_search_near_misses_are_never_taken_for_the_customer() {
    let app = spawn_app().await;
    // fred@example.com is a prefix of fred@example.com.au: JSM's search returns both.
    let near = app
        .post(
            &signup_body("fred@example.com.au", "Alfred").to_string(),
            "application/json",
            &[("Idempotency-Key", "a")],
        )
        .await;
    assert_eq!(near.status(), 201);
    let exact = app
        .post(
            &signup_body("fred@example.com", "Fred").to_string(),
            "application/json",
            &[("Idempotency-Key", "b")],
        )
        .await;
    let exact: Value = exact.json().await.unwrap();
    let again = app
        .post(
            &signup_body("FRED@example.com", "Fred").to_string(),
            "application/json",
            &[("Idempotency-Key", "c")],
        )
        .await;
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["status"], "existing");
    assert_eq!(
        again["customer"]["accountId"],
        exact["customer"]["accountId"]
    );
    app.stop().await;
}

#[tokio::test]
async fn an_existing_customer_that_jsm_hides_is_existing_with_no_customer() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].service_desk_ids = vec![signup_bridge::config::IdOrKey::Number(10)];
    })
    .await;
    assert_eq!(
        app.post_json(&signup_body("hid@example.com", "H"))
            .await
            .status(),
        201
    );
    app.sim.state().set_hide_emails(true);
    let second = app
        .post(
            &signup_body("hid@example.com", "H").to_string(),
            "application/json",
            &[("Idempotency-Key", "x")],
        )
        .await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["customer"], Value::Null);
    assert_eq!(
        second["steps"],
        json!([{"name": "create", "state": "done"}, {"name": "service_desk:10", "state": "skipped"}])
    );
    app.stop().await;
}

#[tokio::test]
async fn display_name_fallbacks_and_form_bodies() {
    let app = spawn_app().await;
    let cases = [
        (
            r#"{"email":"a1@example.com","name":"Name Field"}"#,
            "application/json",
            "Name Field",
        ),
        (
            r#"{"email":"a2@example.com","fullName":"Full Name"}"#,
            "application/json; charset=utf-8",
            "Full Name",
        ),
        (
            r#"{"email":"a3@example.com","firstName":"First","lastName":"Last"}"#,
            "application/json",
            "First Last",
        ),
        (
            r#"{"email":"a4@example.com","displayName":"  "}"#,
            "application/json",
            "a4",
        ),
        (
            "email=a5%40example.com&firstName=Form&lastName=User",
            "application/x-www-form-urlencoded",
            "Form User",
        ),
    ];
    for (body, content_type, want) in cases {
        let response = app.post(body, content_type, &[]).await;
        assert_eq!(response.status(), 201, "{body}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["displayName"], want);
    }
    let sent: Vec<Value> = app
        .creates()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(
        sent[4],
        json!({"email": "a5@example.com", "displayName": "Form User"})
    );
    app.stop().await;
}

#[tokio::test]
async fn a_signup_is_visible_to_its_own_source_only() {
    let app = spawn_app_with(sim_config(), |c| {
        c.sources.push(source(
            "other",
            "other-secret-000000000000-0000000000",
            TENANT,
        ))
    })
    .await;
    let created: Value = app
        .post_json(&signup_body("mine@example.com", "Mine"))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let own = app.get_signup(id, &app.token()).await;
    assert_eq!(own.status(), 200);
    let own: Value = own.json().await.unwrap();
    assert_eq!(own, created);
    let other = app
        .get_signup(
            id,
            &token_for("other", "other-secret-000000000000-0000000000"),
        )
        .await;
    assert_eq!(other.status(), 404);
    assert_eq!(app.get_signup("nope", &app.token()).await.status(), 404);
    assert_eq!(app.get_signup(id, "garbage").await.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    app.stop().await;
}

super::backends::also_on_postgres!(
    a_signup_becomes_one_customer_with_the_spec_body,
    the_same_idempotency_key_replays_and_never_creates_twice,
    the_jti_is_the_key_when_no_header_is_sent,
    an_identical_keyless_payload_is_one_signup,
    twenty_concurrent_identical_requests_create_once,
    the_same_email_under_another_key_resolves_to_the_existing_customer,
    user_search_near_misses_are_never_taken_for_the_customer,
    an_existing_customer_that_jsm_hides_is_existing_with_no_customer,
    display_name_fallbacks_and_form_bodies,
    a_signup_is_visible_to_its_own_source_only,
    health_and_readiness
);
