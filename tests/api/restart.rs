//! The real binary, stopped and started again: nothing accepted is lost.

use std::time::Duration;

use serde_json::Value;

use super::helpers::*;
use super::process::{BridgeProcess, write_config};

#[tokio::test]
async fn a_pending_signup_is_delivered_after_a_restart() {
    // JSM is down: a port with nothing listening.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &dead_url, "", "");
    let bridge = BridgeProcess::start(&config).await;
    let client = http_client();
    let response = client
        .post(format!("{}/webhooks/signup", bridge.address))
        .bearer_auth(token_for(SOURCE, SECRET))
        .json(&signup_body("later@example.com", "Later"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let pending: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/signups/{}", pending["id"].as_str().unwrap())
    );
    assert_eq!(pending["status"], "pending");
    assert!(pending["lastError"].is_string());
    let status = bridge.terminate().await;
    assert!(status.success(), "SIGTERM exit: {status:?}");

    // JSM comes up; the bridge starts again with the same database.
    let sim = start_sim(sim_config()).await;
    let config = write_config(dir.path(), &sim.base_url, "", "");
    let bridge = BridgeProcess::start(&config).await;
    let id = pending["id"].as_str().unwrap();
    let token = token_for(SOURCE, SECRET);
    let body = poll_signup(
        &client,
        &bridge.address,
        id,
        &token,
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(body["status"], "created");
    assert_eq!(body["lastError"], Value::Null);
    assert!(body["attempts"].as_u64().unwrap() >= 2);
    assert_eq!(sim.state().customers().len(), 1);
    assert_eq!(jsm_requests(&sim, "POST", CUSTOMER_PATH).len(), 1);
    bridge.kill9().await;
}
