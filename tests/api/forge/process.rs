//! The Forge gauges and counters of one bridge process (its own metrics registry): tenants
//! waiting for a token, and JSM's near-limit warnings.

use std::time::Duration;

use super::*;
use crate::helpers::{http_client, start_sim};
use crate::process::{BridgeProcess, write_config};

async fn metrics_until(client: &reqwest::Client, address: &str, wanted: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = client
            .get(format!("{address}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains(wanted) || tokio::time::Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn waiting_tenants_and_near_limit_warnings_are_measured() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    let extra = format!(
        "\n[[sources]]\nid = \"{FORGE_SOURCE}\"\ntenant = \"{CLOUD}\"\nsecret = \"{FORGE_SECRET}\"\n\
         \n[forge]\napp_id = \"{APP_ID}\"\njwks_url = \"{}/_sim/forge/jwks.json\"\n",
        sim.control_url
    );
    let config = write_config(dir.path(), &sim.base_url, "", &extra);
    let bridge = BridgeProcess::start(&config).await;
    let client = http_client();
    let trigger = |endpoint: &str, with_token: bool| ForgeTrigger {
        bridge_url: bridge.address.clone(),
        endpoint: endpoint.into(),
        app_id: Some(APP_ID.into()),
        cloud_id: Some(CLOUD.into()),
        with_token: Some(with_token),
        ..ForgeTrigger::default()
    };
    let installed = send_forge(sim.state(), &trigger("lifecycle", false))
        .await
        .unwrap();
    assert_eq!(installed.status, 200);
    let response = client
        .post(format!("{}/webhooks/signup", bridge.address))
        .bearer_auth(token_for(FORGE_SOURCE, FORGE_SECRET))
        .json(&json!({"email": "forge.metrics@example.com", "displayName": "Metrics"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let waiting = "signup_bridge_tenants_waiting{reason=\"no_token\"} 1";
    let text = metrics_until(&client, &bridge.address, waiting).await;
    assert!(text.contains(waiting), "{text}");

    let modes = client
        .post(format!("{}/_sim/forge/config", sim.control_url))
        .json(&json!({"nearLimit": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(modes.status(), 204);
    let refreshed = send_forge(sim.state(), &trigger("refresh", true))
        .await
        .unwrap();
    assert_eq!(refreshed.status, 200);
    let cleared = "signup_bridge_tenants_waiting{reason=\"no_token\"} 0";
    let text = metrics_until(&client, &bridge.address, cleared).await;
    assert!(text.contains(cleared), "{text}");
    let near = text
        .lines()
        .find(|l| l.starts_with("signup_bridge_jsm_near_limit_total{tenant=\"inst-"))
        .unwrap_or_else(|| panic!("no near-limit count: {text}"));
    assert!(near.ends_with(" 1"), "{near}");
    let (status, logs) = bridge.terminate_with_logs().await;
    assert!(status.success());
    let warned = logs
        .iter()
        .filter(|l| l.contains("near its rate limit"))
        .count();
    assert_eq!(warned, 1, "logged once in the window");
    sim.stop().await;
}
