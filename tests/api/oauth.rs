//! OAuth client-credentials tenants against the simulator's token endpoint: one fetch for
//! many signups, refresh before expiry, one refetch after a 401, and a wrong secret that
//! keeps signups pending without ever being shown.

use std::time::Duration;

use serde_json::Value;
use signup_bridge::config::{Config, Secret, TenantAuth};
use signup_bridge::sim::SimConfig;

use super::helpers::*;

const CLIENT_ID: &str = "bridge-oauth-client";
const CLIENT_SECRET: &str = "oauth-client-secret-3f9a7c21d4";

/// A simulator that accepts only OAuth tokens it issued to the test client.
fn oauth_sim(ttl: Duration) -> SimConfig {
    SimConfig {
        oauth_clients: vec![(CLIENT_ID.into(), CLIENT_SECRET.into())],
        oauth_token_ttl: ttl,
        ..SimConfig::default()
    }
}

/// The bridge with the test tenant authenticating by client credentials with `secret`.
async fn spawn_oauth_app(ttl: Duration, secret: &str, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_with(oauth_sim(ttl), secret, tweak).await
}

async fn spawn_with(sim: SimConfig, secret: &str, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let secret = secret.to_string();
    spawn_app_with(sim, move |config| {
        let tenant = &mut config.tenants[0];
        tenant.auth = TenantAuth::OauthClientCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(secret),
            token_url: format!("{}/_sim/oauth/token", tenant.base_url),
        };
        // OAuth 2.0 tokens are accepted only under the API gateway (SPEC §17).
        let (control, cloud) = sim_gateway(&tenant.base_url);
        tenant.base_url = format!("{control}/ex/jira/{cloud}");
        tenant.api_gateway_url = control;
        tweak(config);
    })
    .await
}

/// POST a signup; its id and the response body.
async fn signup(app: &TestApp, email: &str) -> (String, String) {
    let response = app.post_json(&signup_body(email, "OAuth User")).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert!(matches!(status, 201 | 202), "{status}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    (body["id"].as_str().unwrap().to_string(), text)
}

async fn created(app: &TestApp, email: &str) -> Value {
    let (id, _) = signup(app, email).await;
    let done = app.wait_final(&id, Duration::from_secs(10)).await;
    assert_eq!(done["status"], "created", "{done}");
    done
}

fn token_fetches(app: &TestApp) -> u64 {
    app.sim.state().oauth_token_requests()
}

fn create_statuses(app: &TestApp) -> Vec<Option<u16>> {
    app.creates().iter().map(|r| r.status).collect()
}

#[tokio::test]
async fn fifty_concurrent_signups_share_one_token_fetch() {
    let sim = SimConfig {
        // A slow token endpoint (and JSM): many runs wait while the one fetch is in flight.
        latency: Duration::from_millis(300),
        ..oauth_sim(Duration::from_secs(3600))
    };
    let app = spawn_with(sim, CLIENT_SECRET, |config| {
        config.delivery.concurrency_per_tenant = 16;
    })
    .await;
    let emails: Vec<String> = (0..50).map(|i| format!("many{i}@example.com")).collect();
    let posts = emails.iter().map(|email| signup(&app, email));
    let ids: Vec<String> = futures_util::future::join_all(posts)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for id in &ids {
        let done = app.wait_final(id, Duration::from_secs(20)).await;
        assert_eq!(done["status"], "created", "{done}");
    }
    assert_eq!(token_fetches(&app), 1);
    assert_eq!(app.sim.state().customers().len(), 50);
    let creates = app.creates();
    assert_eq!(creates.len(), 50, "no create was refused and retried");
    let first = creates[0].authorization.clone().unwrap();
    assert!(first.starts_with("Bearer sim-oauth-"), "{first}");
    assert!(
        creates
            .iter()
            .all(|r| r.authorization.as_ref() == Some(&first))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_token_is_refetched_shortly_before_it_expires() {
    let app = spawn_oauth_app(Duration::from_secs(2), CLIENT_SECRET, |_| {}).await;
    created(&app, "early1@example.com").await;
    created(&app, "early2@example.com").await;
    assert_eq!(token_fetches(&app), 1, "a live token is reused");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    created(&app, "late@example.com").await;
    assert_eq!(token_fetches(&app), 2);
    // Refreshed before JSM refused it: no 401 was needed.
    assert_eq!(create_statuses(&app), vec![Some(201); 3]);
    let auth: Vec<_> = app.creates().into_iter().map(|r| r.authorization).collect();
    assert_eq!(auth[0], auth[1]);
    assert_ne!(auth[1], auth[2]);
    app.stop().await;
}

#[tokio::test]
async fn a_401_refetches_the_token_once_and_retries_the_call() {
    let app = spawn_oauth_app(Duration::from_secs(3600), CLIENT_SECRET, |_| {}).await;
    created(&app, "before@example.com").await;
    assert_eq!(token_fetches(&app), 1);
    app.sim.state().revoke_oauth_tokens();
    let done = created(&app, "after@example.com").await;
    assert_eq!(token_fetches(&app), 2, "exactly one refetch");
    assert_eq!(create_statuses(&app), vec![Some(201), Some(401), Some(201)]);
    assert_eq!(done["attempts"], 1, "retried within the same attempt");
    assert_eq!(done["lastError"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn a_second_401_is_not_retried_within_the_call() {
    let app = spawn_oauth_app(Duration::from_secs(3600), CLIENT_SECRET, |_| {}).await;
    app.sim
        .state()
        .push_fault(fault(Some(2), CUSTOMER_PATH, status(401, None)));
    let done = created(&app, "twice@example.com").await;
    assert_eq!(create_statuses(&app), vec![Some(401), Some(401), Some(201)]);
    assert_eq!(
        token_fetches(&app),
        2,
        "one refetch after the first 401 only"
    );
    assert_eq!(
        done["attempts"], 2,
        "the second 401 ended the first attempt"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_client_secret_keeps_signups_pending_without_showing_it() {
    const WRONG: &str = "wrong-client-secret-8e2b5d";
    let app = spawn_oauth_app(Duration::from_secs(3600), WRONG, |config| {
        config.delivery.inline_wait = Duration::from_millis(500);
    })
    .await;
    let (id, posted) = signup(&app, "denied@example.com").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let (body, text) = loop {
        let response = app.get_signup(&id, &app.token()).await;
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        if body["attempts"].as_u64().unwrap_or(0) >= 2 || tokio::time::Instant::now() > deadline {
            break (body, text);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(body["status"], "pending", "{body}");
    let last_error = body["lastError"].as_str().unwrap();
    // API answers carry the category and a short reason; the endpoint's answer is in the log.
    assert_eq!(
        last_error, "jsm_auth: could not obtain credentials for JSM (step create)",
        "{last_error}"
    );
    for shown in [posted.as_str(), text.as_str()] {
        assert!(!shown.contains(WRONG), "{shown}");
        assert!(!shown.contains(CLIENT_SECRET), "{shown}");
    }
    assert!(token_fetches(&app) >= 2, "each attempt asks again");
    assert!(
        app.creates().is_empty(),
        "JSM is never called without a token"
    );
    app.stop().await;
}

super::backends::also_on_postgres!(
    fifty_concurrent_signups_share_one_token_fetch,
    a_token_is_refetched_shortly_before_it_expires,
    a_401_refetches_the_token_once_and_retries_the_call,
    a_second_401_is_not_retried_within_the_call,
    a_wrong_client_secret_keeps_signups_pending_without_showing_it
);
