//! 403s while the app's permissions lag the install, and the points-based 429s.

use std::time::Duration;

use super::*;

fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_403_within_the_permission_grace_is_retried_until_it_passes() {
    let app = spawn_forge_app(|c| c.forge.permission_grace = Duration::from_secs(600)).await;
    forge_modes(&app, json!({"forbiddenForSecs": 1})).await;
    forge_call(&app, CLOUD, "lifecycle", |_| {}).await;
    let response = forge_signup(&app, FORGE_SOURCE, "forge.grace@example.com").await;
    let id = id_of(&response.json().await.unwrap());
    let done = forge_final(&app, FORGE_SOURCE, &id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "created", "{done}");
    let statuses: Vec<_> = forge_creates(&app, CLOUD)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses.first(), Some(&Some(403)), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&Some(201)), "{statuses:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_403_after_the_permission_grace_fails_naming_the_permission() {
    let app = spawn_forge_app(|c| c.forge.permission_grace = Duration::ZERO).await;
    forge_modes(&app, json!({"forbiddenForSecs": 3600})).await;
    forge_call(&app, CLOUD, "lifecycle", |_| {}).await;
    let response = forge_signup(&app, FORGE_SOURCE, "forge.denied@example.com").await;
    let id = id_of(&response.json().await.unwrap());
    let done = forge_final(&app, FORGE_SOURCE, &id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["lastError"].as_str().unwrap();
    assert!(
        error.starts_with("jsm_permission:")
            && error.contains("Jira Administrators global permission (ADMINISTER)"),
        "{error}"
    );
    assert_eq!(
        forge_creates(&app, CLOUD).len(),
        1,
        "a permanent failure is not retried"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_global_quota_429_pauses_a_second_installation() {
    let app = spawn_forge_app(|_| {}).await;
    forge_call(&app, CLOUD, "lifecycle", |_| {}).await;
    forge_call(&app, OTHER_CLOUD, "lifecycle", |_| {}).await;
    forge_modes(
        &app,
        json!({"rateLimit": {"reason": "jira-quota-global-based", "times": 1, "resetIn": 3}}),
    )
    .await;
    let client = app.client.clone();
    let url = format!("{}/webhooks/signup", app.address);
    let sent = tokio::spawn(async move {
        client
            .post(url)
            .bearer_auth(token_for(FORGE_SOURCE, FORGE_SECRET))
            .json(&json!({"email": "forge.first@example.com", "displayName": "First"}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while forge_creates(&app, CLOUD)
        .iter()
        .all(|r| r.status != Some(429))
    {
        assert!(tokio::time::Instant::now() < deadline, "no 429 seen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = forge_signup(&app, OTHER_SOURCE, "forge.second@example.com").await;
    let second = id_of(&second.json().await.unwrap());
    let first = id_of(&sent.await.unwrap());
    for (source, id) in [(FORGE_SOURCE, &first), (OTHER_SOURCE, &second)] {
        let done = forge_final(&app, source, id, Duration::from_secs(10)).await;
        assert_eq!(done["status"], "created", "{done}");
    }
    let limited = forge_creates(&app, CLOUD);
    assert_eq!(limited[0].status, Some(429));
    let paused_at = limited[0].received_at_ms;
    let other = forge_creates(&app, OTHER_CLOUD);
    assert_eq!(other.len(), 1);
    // X-RateLimit-Reset (no Retry-After) is 2 to 3 s out (whole seconds); the second signup
    // was sent right after the 429, and waited for the pause.
    assert!(
        other[0].received_at_ms >= paused_at + 1_000,
        "the second installation was called {} ms after the global 429",
        other[0].received_at_ms - paused_at
    );
    app.stop().await;
}

#[tokio::test]
async fn another_429_reason_pauses_only_its_tenant() {
    let app = spawn_forge_app(|_| {}).await;
    forge_call(&app, CLOUD, "lifecycle", |_| {}).await;
    forge_call(&app, OTHER_CLOUD, "lifecycle", |_| {}).await;
    forge_modes(
        &app,
        json!({"rateLimit": {"reason": "jira-burst-based", "times": 1, "retryAfter": 3}}),
    )
    .await;
    let first = forge_signup(&app, FORGE_SOURCE, "forge.burst@example.com").await;
    assert_eq!(first.status(), 202);
    let second = forge_signup(&app, OTHER_SOURCE, "forge.free@example.com").await;
    assert_eq!(second.status(), 201, "the other installation is not paused");
    app.stop().await;
}

crate::backends::also_on_postgres!(
    a_403_within_the_permission_grace_is_retried_until_it_passes,
    a_403_after_the_permission_grace_fails_naming_the_permission,
    a_global_quota_429_pauses_a_second_installation,
    another_429_reason_pauses_only_its_tenant
);
