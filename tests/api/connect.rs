//! Connect app: descriptor, signed install, lifecycle states, routing through installations
//! and Connect JWTs to JSM — against the simulator playing Atlassian's installer.

mod flow;
mod hardening;
mod install;
mod welcome;

use serde_json::{Value, json};
use signup_bridge::auth::qsh::qsh;
use signup_bridge::config::Config;
use signup_bridge::sim::{InstallCommand, InstallReport, InstallerKey, SimConfig, send_lifecycle};
use signup_bridge::store::{InstallationSummary, Store};

use crate::helpers::{TestApp, sim_config, source, spawn_app_with};

pub const SHOP: &str = "shop";
pub const SHOP_SECRET: &str = "shop-secret-0123456789abcdef0123";
pub const CLIENT_KEY: &str = "client-0001";

/// A bridge whose install keys come from the simulator, with a source `shop` whose tenant
/// is `tenant(sim_base_url)` (a clientKey or a baseUrl), and quick inline answers.
pub async fn spawn_connect_app(
    context_path: &str,
    tenant: impl FnOnce(&str) -> String,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let sim = SimConfig {
        context_path: context_path.into(),
        ..sim_config()
    };
    spawn_app_with(sim, |config| {
        let jsm_base = config.tenants[0].base_url.clone();
        let origin = url::Url::parse(&jsm_base)
            .unwrap()
            .origin()
            .ascii_serialization();
        config.connect.install_keys_url = origin;
        config
            .sources
            .push(source(SHOP, SHOP_SECRET, &tenant(&jsm_base)));
        tweak(config);
    })
    .await
}

/// Have the simulator send `event` for `client_key` to the bridge.
pub async fn lifecycle(
    app: &TestApp,
    event: &str,
    client_key: &str,
    secret: Option<&str>,
) -> InstallReport {
    let cmd = InstallCommand {
        bridge_url: app.address.clone(),
        client_key: Some(client_key.into()),
        shared_secret: secret.map(str::to_string),
        event: Some(event.into()),
    };
    send_lifecycle(app.sim.state(), &cmd)
        .await
        .expect("lifecycle sent")
}

pub async fn installations(app: &TestApp) -> Vec<InstallationSummary> {
    let store = Store::open(&app.config.database.url).await.unwrap();
    let list = store.list_installations().await.unwrap();
    store.close().await;
    list
}

pub async fn state_of(app: &TestApp, client_key: &str) -> Option<String> {
    installations(app)
        .await
        .into_iter()
        .find(|i| i.client_key == client_key)
        .map(|i| i.state)
}

/// POST a signup from `shop`.
pub async fn shop_signup(app: &TestApp, email: &str) -> reqwest::Response {
    let token = crate::helpers::token_for(SHOP, SHOP_SECRET);
    app.client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(token)
        .json(&json!({"email": email, "displayName": "Shop Customer"}))
        .send()
        .await
        .unwrap()
}

/// Claims of a valid install token for `path`, for tests to spoil one by one.
pub fn install_claims(app: &TestApp, client_key: &str, path: &str) -> Value {
    let now = signup_bridge::domain::now_ms() / 1000;
    json!({
        "iss": client_key, "iat": now, "exp": now + 180,
        "aud": [app.address], "qsh": qsh("POST", path, ""),
    })
}

pub fn install_payload(app: &TestApp, client_key: &str, secret: &str) -> Value {
    json!({
        "key": app.config.connect.app_key, "clientKey": client_key, "sharedSecret": secret,
        "baseUrl": app.sim.base_url, "productType": "jira", "eventType": "installed",
    })
}

pub fn shared_key() -> &'static InstallerKey {
    InstallerKey::shared().unwrap()
}

/// POST a lifecycle callback with an optional `JWT` token.
pub async fn post_lifecycle(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = app.client.post(format!("{}{path}", app.address)).json(body);
    if let Some(token) = token {
        request = request.header("Authorization", format!("JWT {token}"));
    }
    request.send().await.unwrap()
}
