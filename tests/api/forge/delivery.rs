//! Install → signup → customer created by the app with its system token; signups wait without
//! spending a run while there is no usable token, and are delivered once a Forge call brings one.

use std::time::Duration;

use super::*;

#[tokio::test]
async fn a_customer_is_created_with_the_system_token_through_api_base_url() {
    let app = spawn_forge_app(|_| {}).await;
    let install = forge_call(&app, CLOUD, "lifecycle", |_| {}).await;
    assert_eq!(install.status, 200);
    let response = forge_signup(&app, FORGE_SOURCE, "forge.one@example.com").await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "created");
    let creates = forge_creates(&app, CLOUD);
    assert_eq!(creates.len(), 1);
    assert_eq!(
        creates[0].path,
        format!("/ex/jira/{CLOUD}/rest/servicedeskapi/customer")
    );
    assert_eq!(
        creates[0].query,
        "strictConflictStatusCode=true&requestLanguage=en-US"
    );
    let auth = creates[0].authorization.clone().unwrap();
    assert!(
        auth.starts_with("Bearer ") && auth.split('.').count() == 3,
        "{auth}"
    );
    assert_eq!(app.sim.state().customers().len(), 1);
    let listed = forge_installations(&app).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].installation_id, install.installation_id);
    assert_eq!(listed[0].state, "installed");
    assert!(listed[0].token_expires_at.is_some());
    app.stop().await;
}

#[tokio::test]
async fn a_signup_before_any_token_waits_and_is_delivered_after_refresh() {
    let app = spawn_forge_app(|_| {}).await;
    let install = forge_call(&app, CLOUD, "lifecycle", |t| t.with_token = Some(false)).await;
    assert_eq!(install.status, 200);
    let response = forge_signup(&app, FORGE_SOURCE, "forge.wait@example.com").await;
    assert_eq!(response.status(), 202, "stored, waiting");
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let waiting = until(&app, FORGE_SOURCE, &id, Duration::from_secs(30), |v| {
        v["lastError"]
            .as_str()
            .is_some_and(|e| e.starts_with("waiting:"))
    })
    .await;
    assert_eq!(waiting["status"], "pending");
    assert!(
        waiting["lastError"]
            .as_str()
            .unwrap()
            .contains("next Forge call"),
        "{waiting}"
    );
    assert_eq!(waiting["attempts"], 0, "no run spent: {waiting}");
    assert!(forge_creates(&app, CLOUD).is_empty());

    assert_eq!(forge_call(&app, CLOUD, "refresh", |_| {}).await.status, 200);
    let done = forge_final(&app, FORGE_SOURCE, &id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "created", "{done}");
    assert_eq!(done["attempts"], 1);
    assert_eq!(forge_creates(&app, CLOUD).len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_token_about_to_expire_is_not_used() {
    let app = spawn_forge_app(|_| {}).await;
    forge_call(&app, CLOUD, "lifecycle", |t| t.token_ttl_secs = Some(30)).await;
    let response = forge_signup(&app, FORGE_SOURCE, "forge.expiring@example.com").await;
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let view = until(&app, FORGE_SOURCE, &id, Duration::from_secs(30), |v| {
        v["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("about to expire"))
    })
    .await;
    assert!(
        view["lastError"].as_str().unwrap().starts_with("waiting:"),
        "{view}"
    );
    assert!(
        forge_creates(&app, CLOUD).is_empty(),
        "the expiring token was used"
    );
    forge_call(&app, CLOUD, "refresh", |_| {}).await;
    let done = forge_final(&app, FORGE_SOURCE, &id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "created", "{done}");
    app.stop().await;
}

#[tokio::test]
async fn a_refused_token_is_dropped_and_signups_wait_for_the_next_call() {
    let app = spawn_forge_app(|_| {}).await;
    forge_call(&app, CLOUD, "lifecycle", |_| {}).await;
    forge_modes(&app, json!({"revokeTokens": true})).await;
    let response = forge_signup(&app, FORGE_SOURCE, "forge.revoked@example.com").await;
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let view = until(&app, FORGE_SOURCE, &id, Duration::from_secs(30), |v| {
        v["lastError"]
            .as_str()
            .is_some_and(|e| e.starts_with("waiting:"))
    })
    .await;
    assert_eq!(view["status"], "pending", "{view}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        forge_creates(&app, CLOUD).len(),
        1,
        "one 401, then no call without a token"
    );
    let listed = forge_installations(&app).await;
    assert_eq!(
        listed[0].token_expires_at, None,
        "the refused token was dropped"
    );
    forge_call(&app, CLOUD, "refresh", |_| {}).await;
    let done = forge_final(&app, FORGE_SOURCE, &id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "created", "{done}");
    app.stop().await;
}

#[tokio::test]
async fn pre_uninstall_refuses_new_signups_and_stored_ones_wait() {
    let app = spawn_forge_app(|_| {}).await;
    forge_call(&app, CLOUD, "lifecycle", |t| t.with_token = Some(false)).await;
    let stored = forge_signup(&app, FORGE_SOURCE, "forge.stored@example.com").await;
    assert_eq!(stored.status(), 202);
    let id = stored.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        forge_call(&app, CLOUD, "uninstall", |_| {}).await.status,
        200
    );
    let refused = forge_signup(&app, FORGE_SOURCE, "forge.new@example.com").await;
    assert_eq!(refused.status(), 503);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "tenant_unavailable");
    let view = until(&app, FORGE_SOURCE, &id, Duration::from_secs(30), |v| {
        v["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("uninstalled"))
    })
    .await;
    assert_eq!(view["status"], "pending", "{view}");
    // A scheduled trigger after the uninstall brings no token back.
    forge_call(&app, CLOUD, "refresh", |_| {}).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(forge_creates(&app, CLOUD).is_empty());
    let listed = forge_installations(&app).await;
    assert_eq!(
        (listed[0].state.as_str(), listed[0].token_expires_at),
        ("uninstalled", None)
    );
    app.stop().await;
}

crate::backends::also_on_postgres!(
    a_customer_is_created_with_the_system_token_through_api_base_url,
    a_signup_before_any_token_waits_and_is_delivered_after_refresh,
    a_token_about_to_expire_is_not_used,
    a_refused_token_is_dropped_and_signups_wait_for_the_next_call,
    pre_uninstall_refuses_new_signups_and_stored_ones_wait
);
