//! Replays under concurrency, the inline wait's answer, and `jti` binding.

use std::time::Duration;

use serde_json::Value;
use signup_bridge::auth::mint_hs256;
use signup_bridge::config::IdOrKey;
use signup_bridge::sim::FaultAction;

use crate::helpers::*;

#[tokio::test]
async fn sixty_four_concurrent_replays_of_a_finished_signup_are_all_answered() {
    let app = spawn_app().await;
    let body = signup_body("replay@example.com", "Replay").to_string();
    let key = [("Idempotency-Key", "replay-1")];
    let first = app.post(&body, "application/json", &key).await;
    assert_eq!(first.status(), 201);

    let replays = (0..64).map(|_| app.post(&body, "application/json", &key));
    let answers = futures_util::future::join_all(replays).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 201),
        "every replay is the stored 201: {statuses:?}"
    );
    assert!(
        answers
            .iter()
            .all(|r| r.headers()["idempotent-replayed"] == "true")
    );
    assert_eq!(app.creates().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_inline_answer_carries_the_state_reached_during_the_wait() {
    let app = spawn_app_with(sim_config(), |c| {
        c.delivery.request_timeout = Duration::from_secs(10);
        c.tenants[0].service_desk_ids = vec![IdOrKey::Number(10), IdOrKey::Number(20)];
    })
    .await;
    // The second desk hangs past the inline wait: the run is still going when intake answers.
    app.sim.state().push_fault(fault(
        Some(1),
        "/servicedesk/20/",
        FaultAction::Delay { ms: 6_000 },
    ));
    let answer = app
        .post_json(&signup_body("desks@example.com", "Desks"))
        .await;
    assert_eq!(answer.status(), 202);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["steps"][0]["state"], "done", "{body}");
    assert_eq!(body["steps"][1]["state"], "done", "{body}");
    assert_eq!(body["steps"][2]["state"], "pending", "{body}");
    assert_eq!(body["attempts"], 1, "{body}");
    assert!(body["customer"]["accountId"].is_string(), "{body}");
    app.stop().await;
}

fn token_with_jti(jti: &str) -> String {
    mint_hs256(SECRET, SOURCE, Duration::from_secs(120), Some(jti), None).unwrap()
}

async fn post_as(app: &TestApp, token: &str, body: &Value, key: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_jti_is_bound_to_the_key_of_its_first_signup() {
    let app = spawn_app().await;
    let token = token_with_jti("jti-bound-1");
    let body = signup_body("first@example.com", "First");
    assert_eq!(post_as(&app, &token, &body, "k-1").await.status(), 201);
    // The same token and key again: a replay.
    let again = post_as(&app, &token, &body, "k-1").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    // The same token with another key and another body: refused, nothing stored.
    let other = signup_body("intruder@example.com", "Intruder");
    let refused = post_as(&app, &token, &other, "k-2").await;
    assert_eq!(refused.status(), 401);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_token");
    assert_eq!(app.stored_signups().await, 1);
    assert_eq!(app.creates().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_jti_first_used_on_a_replay_is_bound_to_that_signup() {
    let app = spawn_app().await;
    let body = signup_body("retry@example.com", "Retry");
    let first = token_with_jti("jti-first");
    assert_eq!(post_as(&app, &first, &body, "k-9").await.status(), 201);
    // A retry with a fresh token replays k-9 and binds the fresh token to it.
    let fresh = token_with_jti("jti-fresh");
    let replay = post_as(&app, &fresh, &body, "k-9").await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let other = signup_body("else@example.com", "Else");
    assert_eq!(post_as(&app, &fresh, &other, "k-10").await.status(), 401);
    assert_eq!(app.stored_signups().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_uses_of_one_jti_with_different_keys_store_one_signup() {
    let app = spawn_app().await;
    let token = token_with_jti("jti-race");
    let sends = (0..8).map(|i| {
        let body = signup_body(&format!("race{i}@example.com"), "Race");
        let token = token.clone();
        let app = &app;
        async move { post_as(app, &token, &body, &format!("race-{i}")).await }
    });
    let answers = futures_util::future::join_all(sends).await;
    let accepted = answers.iter().filter(|r| r.status().is_success()).count();
    assert_eq!(accepted, 1, "one key wins the jti");
    assert!(
        answers
            .iter()
            .all(|r| r.status().is_success() || r.status() == 401)
    );
    assert_eq!(app.stored_signups().await, 1);
    app.stop().await;
}

super::backends::also_on_postgres!(
    sixty_four_concurrent_replays_of_a_finished_signup_are_all_answered,
    the_inline_answer_carries_the_state_reached_during_the_wait,
    a_jti_is_bound_to_the_key_of_its_first_signup,
    a_jti_first_used_on_a_replay_is_bound_to_that_signup,
    concurrent_uses_of_one_jti_with_different_keys_store_one_signup
);
