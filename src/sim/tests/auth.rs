//! Basic, Bearer and Connect JWT authentication, with and without a context path.

use super::*;
use crate::auth::qsh::qsh;
use jsonwebtoken::{EncodingKey, Header, encode};
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn connect_jwt(secret: &str, iss: &str, qsh: &str, exp_offset: i64) -> String {
    let iat = now();
    let exp = iat.saturating_add_signed(exp_offset);
    let claims = json!({"iss": iss, "iat": iat, "exp": exp, "qsh": qsh});
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign JWT")
}

fn create_qsh() -> String {
    qsh("POST", CREATE, "strictConflictStatusCode=true")
}

async fn create_with_auth(sim: &SimServer, authorization: &str) -> (u16, Value) {
    let resp = create_req(&client(), &sim.base_url, "fred@example.com", true)
        .header("Authorization", authorization)
        .send()
        .await
        .expect("request");
    status_and_json(resp).await
}

#[tokio::test]
async fn basic_auth_needs_a_known_email_and_token() {
    let sim = start(config()).await;
    let bad = create_req(&client(), &sim.base_url, "fred@example.com", true)
        .basic_auth(EMAIL, Some("wrong-token"))
        .send()
        .await
        .expect("request");
    let (status, body) = status_and_json(bad).await;
    assert_eq!(status, 401);
    jsm_error(&body);
    let none = create_req(&client(), &sim.base_url, "fred@example.com", true)
        .send()
        .await
        .expect("request");
    assert_eq!(none.status().as_u16(), 401);
    assert!(sim.state().customers().is_empty());
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 201);
    sim.stop().await;
}

#[tokio::test]
async fn bearer_auth_needs_a_known_token_under_the_gateway() {
    let sim = start(config()).await;
    let at_gateway = |auth: String| {
        let gateway = sim.gateway_url();
        async move {
            let resp = create_req(&client(), &gateway, "fred@example.com", true)
                .header("Authorization", auth)
                .send()
                .await
                .expect("create");
            status_and_json(resp).await.0
        }
    };
    assert_eq!(at_gateway("Bearer nope".into()).await, 401);
    // Published: OAuth 2.0 tokens are refused at the site URL.
    assert_eq!(
        create_with_auth(&sim, &format!("bearer {BEARER}")).await.0,
        401
    );
    assert!(sim.state().customers().is_empty());
    assert_eq!(at_gateway(format!("bearer {BEARER}")).await, 201);
    sim.stop().await;
}

#[tokio::test]
async fn connect_jwt_is_checked_for_signature_issuer_expiry_and_qsh() {
    let sim = start(config()).await;
    let rejected = [
        (
            "wrong secret",
            connect_jwt("other-secret", APP_KEY, &create_qsh(), 180),
        ),
        (
            "wrong iss",
            connect_jwt(SECRET, "com.other.app", &create_qsh(), 180),
        ),
        ("expired", connect_jwt(SECRET, APP_KEY, &create_qsh(), -600)),
        (
            "qsh without the query",
            connect_jwt(SECRET, APP_KEY, &qsh("POST", CREATE, ""), 180),
        ),
        (
            "qsh of another method",
            connect_jwt(
                SECRET,
                APP_KEY,
                &qsh("GET", CREATE, "strictConflictStatusCode=true"),
                180,
            ),
        ),
    ];
    for (why, token) in rejected {
        let (status, body) = create_with_auth(&sim, &format!("JWT {token}")).await;
        assert_eq!(status, 401, "{why}: {body}");
    }
    assert!(sim.state().customers().is_empty());
    let token = connect_jwt(SECRET, APP_KEY, &create_qsh(), 180);
    assert_eq!(create_with_auth(&sim, &format!("JWT {token}")).await.0, 201);
    sim.stop().await;
}

#[tokio::test]
async fn context_path_is_stripped_for_qsh_and_required_for_routes() {
    let sim = start(SimConfig {
        context_path: "/jira".into(),
        ..config()
    })
    .await;
    assert!(sim.base_url.ends_with("/jira"), "{}", sim.base_url);
    // A qsh over the full path (context path included) is not what JSM computes.
    let full = qsh(
        "POST",
        &format!("/jira{CREATE}"),
        "strictConflictStatusCode=true",
    );
    let token = connect_jwt(SECRET, APP_KEY, &full, 180);
    assert_eq!(create_with_auth(&sim, &format!("JWT {token}")).await.0, 401);
    let token = connect_jwt(SECRET, APP_KEY, &create_qsh(), 180);
    assert_eq!(create_with_auth(&sim, &format!("JWT {token}")).await.0, 201);
    // The same route outside the context path does not exist.
    let outside = create_req(&client(), &sim.control_url, "x@example.com", true)
        .basic_auth(EMAIL, Some(API_TOKEN))
        .send()
        .await
        .expect("request");
    assert_eq!(outside.status().as_u16(), 404);
    assert_eq!(sim.state().customers().len(), 1);
    sim.stop().await;
}
