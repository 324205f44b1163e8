//! Rules 4 and 5: OAuth 2.0 tokens only through the API gateway (a config error otherwise),
//! and a `jira-quota-*` 429 pausing every tenant of the same app.

use std::time::Duration;

use serde_json::Value;
use signup_bridge::config::{Secret, TenantAuth, TenantConfig};
use signup_bridge::sim::SimConfig;

use crate::helpers::*;

const CLIENT: &str = "shared-oauth-app";
const CLIENT_SECRET: &str = "shared-oauth-secret-7c1e9a";
const SOURCE_A: &str = "source-a";
const SOURCE_B: &str = "source-b";
const SOURCE_SECRET: &str = "quota-source-secret-0123456789abcdef";

fn oauth_tenant(id: &str, base_url: &str) -> TenantConfig {
    let (root, cloud) = sim_gateway(base_url);
    TenantConfig {
        id: id.into(),
        base_url: format!("{root}/ex/jira/{cloud}"),
        auth: TenantAuth::OauthClientCredentials {
            client_id: CLIENT.into(),
            client_secret: Secret::new(CLIENT_SECRET),
            token_url: format!("{root}/_sim/oauth/token"),
        },
        service_desk_ids: vec![],
        organization_ids: vec![],
        organization_rules: Vec::new(),
        welcome_request: None,
        api_gateway_url: root,
    }
}

async fn post_as(app: &TestApp, source: &str, email: &str) -> String {
    let response = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(token_for(source, SOURCE_SECRET))
        .json(&signup_body(email, "Quota User"))
        .send()
        .await
        .unwrap();
    assert!(matches!(response.status().as_u16(), 201 | 202));
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

/// When the simulator received the create carrying `email`.
fn create_received(app: &TestApp, email: &str) -> Vec<(u64, Option<u16>, Option<u64>)> {
    app.creates()
        .iter()
        .filter(|r| r.body.contains(email))
        .map(|r| (r.received_at_ms, r.status, r.responded_at_ms))
        .collect()
}

#[tokio::test]
async fn a_quota_429_pauses_every_oauth_tenant_of_the_app_and_no_api_token_tenant() {
    let sim = SimConfig {
        oauth_clients: vec![(CLIENT.into(), CLIENT_SECRET.into())],
        ..sim_config()
    };
    let app = spawn_app_with(sim, |c| {
        let base = c.tenants[0].base_url.clone();
        c.tenants.push(oauth_tenant("oauth-a", &base));
        c.tenants.push(oauth_tenant("oauth-b", &base));
        c.sources.push(source(SOURCE_A, SOURCE_SECRET, "oauth-a"));
        c.sources.push(source(SOURCE_B, SOURCE_SECRET, "oauth-b"));
        c.delivery.inline_wait = Duration::from_millis(200);
    })
    .await;
    let state = app.sim.state();
    state.update_facts(|f| f.rate_limit_reason = "jira-quota-tenant-based".into());
    state.push_fault(fault(Some(1), CUSTOMER_PATH, status(429, Some(3))));
    let a = post_as(&app, SOURCE_A, "quota.a@example.com").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let answered = loop {
        if let Some((_, Some(429), Some(at))) = create_received(&app, "quota.a@").first() {
            break *at;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no 429 reached the bridge"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Give the bridge the moment it takes to record the pause, then send the others.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = post_as(&app, SOURCE_B, "quota.b@example.com").await;
    let basic = app
        .post_json(&signup_body("quota.basic@example.com", "Q"))
        .await;
    assert_eq!(basic.status(), 201, "an API-token tenant is not paused");
    for id in [&a, &b] {
        let token = if *id == a { SOURCE_A } else { SOURCE_B };
        let done = poll_signup(
            &app.client,
            &app.address,
            id,
            &token_for(token, SOURCE_SECRET),
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(done["status"], "created", "{done}");
    }
    let b_sent = create_received(&app, "quota.b@")[0].0;
    assert!(
        b_sent >= answered + 2_500,
        "the other tenant of the same OAuth app waited out the window: {}ms",
        b_sent.saturating_sub(answered)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_quota_429_to_an_api_token_tenant_pauses_only_that_tenant() {
    let sim = SimConfig {
        oauth_clients: vec![(CLIENT.into(), CLIENT_SECRET.into())],
        ..sim_config()
    };
    let app = spawn_app_with(sim, |c| {
        let base = c.tenants[0].base_url.clone();
        c.tenants.push(oauth_tenant("oauth-a", &base));
        c.sources.push(source(SOURCE_A, SOURCE_SECRET, "oauth-a"));
        c.delivery.inline_wait = Duration::from_millis(200);
    })
    .await;
    let state = app.sim.state();
    state.update_facts(|f| f.rate_limit_reason = "jira-quota-global-based".into());
    state.push_fault(fault(Some(1), CUSTOMER_PATH, status(429, Some(30))));
    let basic = app
        .post_json(&signup_body("quota.basic@example.com", "Q"))
        .await;
    assert_eq!(basic.status(), 202, "the API-token tenant got the 429");
    // The OAuth tenant is another app: it is not paused by the API token's 429.
    let a = post_as(&app, SOURCE_A, "quota.other@example.com").await;
    let done = poll_signup(
        &app.client,
        &app.address,
        &a,
        &token_for(SOURCE_A, SOURCE_SECRET),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(done["status"], "created", "{done}");
    app.stop().await;
}

#[test]
fn an_oauth_tenant_at_a_site_url_is_a_config_error_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-site.toml");
    std::fs::write(
        &path,
        "[[tenants]]\nid = \"acme\"\nbase_url = \"https://acme.atlassian.net\"\n\
         auth = { type = \"oauth_client_credentials\", client_id = \"c\", \
         client_secret = \"s\", token_url = \"https://auth.atlassian.com/oauth/token\" }\n",
    )
    .unwrap();
    let (code, _, stderr) = crate::process::run_cli(&path, &["check-config"]);
    assert_eq!(code, 2, "{stderr}");
    for part in [
        "tenants[0].base_url",
        "https://api.atlassian.com/ex/jira/{cloudId}",
        "https://acme.atlassian.net/_edge/tenant_info",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
}
