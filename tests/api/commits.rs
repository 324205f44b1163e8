//! Commits per signup (group commit): the intake insert, the worker's claim, and one write
//! with the last step and the outcome; a step followed by another is recorded on its own.

use std::time::Duration;

use signup_bridge::config::IdOrKey;

use super::helpers::*;

/// Post one new signup and wait until it is final; the write transactions it cost.
async fn batches_for_one_signup(app: &TestApp, email: &str) -> u64 {
    let before = app.store.write_batches();
    let answer = app.post_json(&signup_body(email, "Commit Count")).await;
    let id = id_of(answer).await;
    let body = app.wait_final(&id, Duration::from_secs(10)).await;
    assert_eq!(body["status"], "created", "{body}");
    app.store.write_batches() - before
}

#[tokio::test]
async fn a_one_step_signup_costs_the_worker_two_commits() {
    let app = spawn_app().await;
    // Intake insert, claim, then the create step with the completion.
    assert_eq!(batches_for_one_signup(&app, "two@example.com").await, 3);
    app.stop().await;
}

#[tokio::test]
async fn a_step_followed_by_another_is_recorded_before_the_next_call() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].service_desk_ids = vec![IdOrKey::Number(10)];
        c.tenants[0].organization_ids = vec![IdOrKey::Number(7)];
    })
    .await;
    // Insert, claim, create, service desk, then the organization step with the completion.
    assert_eq!(batches_for_one_signup(&app, "three@example.com").await, 5);
    app.stop().await;
}

super::backends::also_on_postgres!(
    a_one_step_signup_costs_the_worker_two_commits,
    a_step_followed_by_another_is_recorded_before_the_next_call
);
