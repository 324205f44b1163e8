//! A tenant's 429 pause survives SIGKILL: a signup accepted by the restarted bridge inside the
//! `Retry-After` window is not sent before the window ends.

use std::time::Duration;

use sqlx::Connection as _;

use super::helpers::*;
use super::process::{BridgeProcess, write_config};

const RETRY_AFTER_SECS: u64 = 4;

async fn post(client: &reqwest::Client, bridge: &BridgeProcess, email: &str) -> String {
    let answer = client
        .post(format!("{}/webhooks/signup", bridge.address))
        .bearer_auth(token_for(SOURCE, SECRET))
        .json(&signup_body(email, "Pause Test"))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    id_of(answer).await
}

#[tokio::test]
async fn a_429_pause_holds_new_signups_after_a_sigkill_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    sim.state().push_fault(fault(
        Some(1),
        CUSTOMER_PATH,
        status(429, Some(RETRY_AFTER_SECS)),
    ));
    let config = write_config(dir.path(), &sim.base_url, "inline_wait = \"0s\"", "");
    let bridge = BridgeProcess::start(&config).await;
    let client = http_client();
    let first = post(&client, &bridge, "before@example.com").await;

    // Kill only once the pause is on disk: what a SIGKILL cannot take away.
    let url = format!("sqlite://{}", dir.path().join("bridge.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sqlx::query("SELECT 1 FROM tenant_holds")
        .fetch_optional(&mut db)
        .await
        .unwrap()
        .is_none()
    {
        assert!(tokio::time::Instant::now() < deadline, "no pause recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    db.close().await.unwrap();
    bridge.kill9().await;

    let bridge = BridgeProcess::start(&config).await;
    let second = post(&client, &bridge, "after@example.com").await;
    let token = token_for(SOURCE, SECRET);
    for id in [&first, &second] {
        let body = poll_signup(
            &client,
            &bridge.address,
            id,
            &token,
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(body["status"], "created", "{body}");
    }
    let creates = jsm_requests(&sim, "POST", CUSTOMER_PATH);
    let answered = creates[0].responded_at_ms.unwrap();
    assert_eq!(creates[0].status, Some(429));
    for later in &creates[1..] {
        // The bridge started its pause when the answer arrived, after the simulator sent it.
        assert!(
            later.received_at_ms >= answered + RETRY_AFTER_SECS * 1000 - 50,
            "a create {} ms after the 429",
            later.received_at_ms - answered
        );
    }
    assert_eq!(creates.len(), 3);
    bridge.kill9().await;
}
