//! Forge Remote: FIT-verified lifecycle and triggers, app system tokens, JSM through
//! `apiBaseUrl` — against the simulator playing the Forge platform.

mod delivery;
mod limits;
mod process;
mod routes;
mod walkthrough;

use std::time::Duration;

use serde_json::{Value, json};
use signup_bridge::config::Config;
use signup_bridge::sim::{ForgeTrigger, ForgeTriggerReport, send_forge};
use signup_bridge::store::{ForgeInstallationSummary, Store};

use crate::helpers::{TestApp, jsm_requests, sim_config, source, spawn_app_with, token_for};

pub const APP_ID: &str = "ari:cloud:ecosystem::app/5d2f8c1e-0000-4000-8000-00000000f0a9";
pub const FORGE_SOURCE: &str = "forge-shop";
pub const FORGE_SECRET: &str = "forge-shop-secret-0123456789abcdef";
pub const CLOUD: &str = "cloud-0001";
pub const OTHER_SOURCE: &str = "forge-other";
pub const OTHER_CLOUD: &str = "cloud-0002";

/// A bridge with `[forge]` pointed at the simulator, and two sources whose tenants are the
/// Forge installations of `CLOUD` and `OTHER_CLOUD` (named by cloudId).
pub async fn spawn_forge_app(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(sim_config(), |config| {
        let jsm_base = config.tenants[0].base_url.clone();
        let origin = url::Url::parse(&jsm_base)
            .unwrap()
            .origin()
            .ascii_serialization();
        config.forge.app_id = APP_ID.into();
        config.forge.jwks_url = format!("{origin}/_sim/forge/jwks.json");
        config.delivery.inline_wait = Duration::from_millis(1500);
        config
            .sources
            .push(source(FORGE_SOURCE, FORGE_SECRET, CLOUD));
        config
            .sources
            .push(source(OTHER_SOURCE, FORGE_SECRET, OTHER_CLOUD));
        tweak(config);
    })
    .await
}

/// Have the simulator send one Forge call for `cloud`.
pub async fn forge_call(
    app: &TestApp,
    cloud: &str,
    endpoint: &str,
    tweak: impl FnOnce(&mut ForgeTrigger),
) -> ForgeTriggerReport {
    let mut trigger = ForgeTrigger {
        bridge_url: app.address.clone(),
        endpoint: endpoint.into(),
        app_id: Some(APP_ID.into()),
        cloud_id: Some(cloud.into()),
        ..ForgeTrigger::default()
    };
    tweak(&mut trigger);
    send_forge(app.sim.state(), &trigger)
        .await
        .expect("Forge call sent")
}

/// POST a signup from `source`.
pub async fn forge_signup(app: &TestApp, source: &str, email: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(token_for(source, FORGE_SECRET))
        .json(&json!({"email": email, "displayName": "Forge Customer"}))
        .send()
        .await
        .unwrap()
}

/// GET the signup as `source` sees it.
pub async fn signup_of(app: &TestApp, source: &str, id: &str) -> Value {
    app.get_signup(id, &token_for(source, FORGE_SECRET))
        .await
        .json()
        .await
        .unwrap()
}

/// Poll until the signup is not pending (or `within` passes).
pub async fn forge_final(app: &TestApp, source: &str, id: &str, within: Duration) -> Value {
    crate::helpers::poll_signup(
        &app.client,
        &app.address,
        id,
        &token_for(source, FORGE_SECRET),
        within,
    )
    .await
}

/// Poll until `check` holds for the signup (or `within` passes); the last view.
pub async fn until(
    app: &TestApp,
    source: &str,
    id: &str,
    within: Duration,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let view = signup_of(app, source, id).await;
        if check(&view) || tokio::time::Instant::now() > deadline {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Customer creates the simulator received through `/ex/jira/{cloud}`.
pub fn forge_creates(app: &TestApp, cloud: &str) -> Vec<signup_bridge::sim::LoggedRequest> {
    jsm_requests(&app.sim, "POST", "/rest/servicedeskapi/customer")
        .into_iter()
        .filter(|r| r.path.starts_with(&format!("/ex/jira/{cloud}/")))
        .collect()
}

pub async fn forge_installations(app: &TestApp) -> Vec<ForgeInstallationSummary> {
    let store = Store::open(&app.config.database.url).await.unwrap();
    let list = store.list_forge_installations().await.unwrap();
    store.close().await;
    list
}

/// Switch the simulator's Forge modes.
pub async fn forge_modes(app: &TestApp, modes: Value) {
    let status = app
        .client
        .post(format!("{}/_sim/forge/config", app.sim.control_url))
        .json(&modes)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
}
