//! The token endpoint: RFC 6749 §4.4 grants and errors, and issued tokens as JSM Bearer auth.

use super::*;
use std::time::Duration;

const CLIENT_ID: &str = "client-1";
const CLIENT_SECRET: &str = "client-secret-1";

fn oauth_config(ttl: Duration) -> SimConfig {
    SimConfig {
        oauth_clients: vec![(CLIENT_ID.into(), CLIENT_SECRET.into())],
        oauth_token_ttl: ttl,
        ..config()
    }
}

async fn grant(server: &SimServer, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client()
        .post(format!("{}/_sim/oauth/token", server.control_url))
        .form(form)
        .send()
        .await
        .expect("token request");
    status_and_json(resp).await
}

/// OAuth tokens are accepted only under the API gateway path (SPEC §17).
async fn create_with(server: &SimServer, token: &str, email: &str) -> u16 {
    create_req(&client(), &server.gateway_url(), email, true)
        .bearer_auth(token)
        .send()
        .await
        .expect("create request")
        .status()
        .as_u16()
}

const GOOD: [(&str, &str); 3] = [
    ("grant_type", "client_credentials"),
    ("client_id", CLIENT_ID),
    ("client_secret", CLIENT_SECRET),
];

#[tokio::test]
async fn issued_tokens_are_bearer_credentials_until_revoked() {
    let server = start(oauth_config(Duration::from_secs(60))).await;
    let (status, body) = grant(&server, &GOOD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_u64()),
        (Some("Bearer"), Some(60))
    );
    let token = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    assert_eq!(create_with(&server, &token, "a@example.com").await, 201);
    assert_eq!(
        create_with(&server, "sim-oauth-guessed", "b@example.com").await,
        401
    );
    let revoked = client()
        .post(format!("{}/_sim/oauth/revoke", server.control_url))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status().as_u16(), 204);
    assert_eq!(create_with(&server, &token, "c@example.com").await, 401);
    let summary: Value = client()
        .get(format!("{}/_sim/oauth", server.control_url))
        .send()
        .await
        .expect("summary")
        .json()
        .await
        .expect("json");
    assert_eq!(summary, json!({"tokenRequests": 1, "liveTokens": 0}));
    server.stop().await;
}

#[tokio::test]
async fn tokens_expire_after_their_ttl() {
    let server = start(oauth_config(Duration::from_millis(300))).await;
    let (_, body) = grant(&server, &GOOD).await;
    let token = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    assert_eq!(create_with(&server, &token, "a@example.com").await, 201);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(create_with(&server, &token, "b@example.com").await, 401);
    server.stop().await;
}

#[tokio::test]
async fn bad_grants_get_rfc_6749_errors() {
    let server = start(oauth_config(Duration::from_secs(60))).await;
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);
    let cases: [Case; 4] = [
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", "nope"),
            ],
            401,
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
            ],
            401,
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "password"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ],
            400,
            "unsupported_grant_type",
        ),
        (
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            400,
            "invalid_request",
        ),
    ];
    for (form, want_status, want_error) in cases {
        let (status, body) = grant(&server, form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (want_status, Some(want_error)),
            "{form:?}"
        );
    }
    let json_body = client()
        .post(format!("{}/_sim/oauth/token", server.control_url))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .expect("token request");
    assert_eq!(json_body.status().as_u16(), 400);
    // HTTP Basic client authentication (RFC 6749 §2.3.1) is accepted too.
    let basic = client()
        .post(format!("{}/_sim/oauth/token", server.control_url))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request");
    assert_eq!(basic.status().as_u16(), 200);
    assert_eq!(server.state().oauth_token_requests(), 6);
    server.stop().await;
}
