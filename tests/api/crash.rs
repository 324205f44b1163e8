//! kill -9 of the real binary at awkward moments: nothing lost, nothing duplicated.

use std::time::Duration;

use serde_json::Value;
use signup_bridge::sim::FaultAction;

use super::helpers::*;
use super::process::{BridgeProcess, write_config};

fn dead_url() -> String {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", dead.local_addr().unwrap())
}

async fn post(client: &reqwest::Client, bridge: &BridgeProcess, email: &str) -> reqwest::Response {
    client
        .post(format!("{}/webhooks/signup", bridge.address))
        .bearer_auth(token_for(SOURCE, SECRET))
        .json(&signup_body(email, "Crash Test"))
        .send()
        .await
        .unwrap()
}

async fn status_of(client: &reqwest::Client, bridge: &BridgeProcess, id: &str) -> Value {
    let token = token_for(SOURCE, SECRET);
    poll_signup(client, &bridge.address, id, &token, Duration::ZERO).await
}

/// Poll until every id is final (or `within` passes); the final bodies.
async fn wait_all_final(
    client: &reqwest::Client,
    bridge: &BridgeProcess,
    ids: &[String],
    within: Duration,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    let token = token_for(SOURCE, SECRET);
    let mut done = Vec::new();
    for id in ids {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        done.push(poll_signup(client, &bridge.address, id, &token, left).await);
    }
    done
}

#[tokio::test]
async fn five_hundred_pending_signups_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let down = write_config(
        dir.path(),
        &dead_url(),
        "inline_wait = \"0s\"\nbackoff_base = \"1s\"\nbackoff_max = \"2s\"\nmax_attempts = 1000",
        "",
    );
    let bridge = BridgeProcess::start(&down).await;
    let client = http_client();
    let mut ids = Vec::new();
    for chunk in (0..500).collect::<Vec<_>>().chunks(50) {
        let answers = futures_util::future::join_all(chunk.iter().map(|i| {
            let (client, bridge) = (&client, &bridge);
            async move { post(client, bridge, &format!("crash{i}@example.com")).await }
        }))
        .await;
        for answer in answers {
            assert_eq!(answer.status(), 202);
            ids.push(id_of(answer).await);
        }
    }
    bridge.kill9().await;

    let sim = start_sim(sim_config()).await;
    let up = write_config(
        dir.path(),
        &sim.base_url,
        "inline_wait = \"0s\"\nmax_attempts = 1000",
        "",
    );
    let bridge = BridgeProcess::start(&up).await;
    let finals = wait_all_final(&client, &bridge, &ids, Duration::from_secs(90)).await;
    let created = finals.iter().filter(|b| b["status"] == "created").count();
    assert_eq!(
        created,
        500,
        "not created: {:?}",
        finals.iter().find(|b| b["status"] != "created")
    );
    assert_eq!(sim.state().customers().len(), 500);
    let creates = jsm_requests(&sim, "POST", CUSTOMER_PATH);
    assert_eq!(creates.len(), 500, "one create per signup");
    bridge.kill9().await;
}

#[tokio::test]
async fn kill_9_during_a_create_that_jsm_completes_resolves_to_one_customer() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    // JSM makes the customer, then answers slowly: the bridge dies before the answer.
    sim.state().push_fault(fault(
        Some(1),
        CUSTOMER_PATH,
        FaultAction::Delay { ms: 5_000 },
    ));
    let config = write_config(dir.path(), &sim.base_url, "inline_wait = \"200ms\"", "");
    let bridge = BridgeProcess::start(&config).await;
    let client = http_client();
    let answer = post(&client, &bridge, "inflight@example.com").await;
    assert_eq!(answer.status(), 202);
    let id = id_of(answer).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sim.state().customers().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sim.state().customers().len(), 1, "JSM made the customer");
    bridge.kill9().await;

    let bridge = BridgeProcess::start(&config).await;
    let body = wait_all_final(
        &client,
        &bridge,
        std::slice::from_ref(&id),
        Duration::from_secs(30),
    )
    .await
    .remove(0);
    assert!(
        matches!(body["status"].as_str(), Some("existing" | "created")),
        "{body}"
    );
    assert_eq!(
        body["customer"]["accountId"],
        sim.state().customers()[0].account_id.as_str()
    );
    assert_eq!(sim.state().customers().len(), 1);
    bridge.kill9().await;
}

#[tokio::test]
async fn finished_steps_are_not_repeated_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    // The organization step fails (connection dropped, no effect) until the crash.
    sim.state().push_fault(fault(
        None,
        "/organization/7/",
        FaultAction::Drop {
            process_first: false,
        },
    ));
    let config = write_config(
        dir.path(),
        &sim.base_url,
        "inline_wait = \"200ms\"\nbackoff_base = \"2s\"\nbackoff_max = \"4s\"",
        "service_desk_ids = [10]\norganization_ids = [7]",
    );
    let bridge = BridgeProcess::start(&config).await;
    let client = http_client();
    let answer = post(&client, &bridge, "steps@example.com").await;
    let id = id_of(answer).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while jsm_requests(&sim, "POST", "/organization/7/user").is_empty()
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = status_of(&client, &bridge, &id).await;
    assert_eq!(before["steps"][1]["state"], "done", "{before}");
    assert_eq!(before["steps"][2]["state"], "pending", "{before}");
    bridge.kill9().await;

    sim.state().clear_faults();
    let bridge = BridgeProcess::start(&config).await;
    let body = wait_all_final(
        &client,
        &bridge,
        std::slice::from_ref(&id),
        Duration::from_secs(30),
    )
    .await
    .remove(0);
    assert_eq!(body["status"], "created", "{body}");
    assert_eq!(jsm_requests(&sim, "POST", CUSTOMER_PATH).len(), 1);
    assert_eq!(
        jsm_requests(&sim, "POST", "/servicedesk/10/customer").len(),
        1
    );
    let org_done = jsm_requests(&sim, "POST", "/organization/7/user")
        .iter()
        .filter(|r| r.status == Some(204))
        .count();
    assert_eq!(org_done, 1);
    let customer = &sim.state().customers()[0];
    assert_eq!(customer.service_desks, vec!["10".to_string()]);
    assert_eq!(customer.organizations, vec!["7".to_string()]);
    bridge.kill9().await;
}

#[tokio::test]
async fn a_429_pause_outlives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    sim.state()
        .push_fault(fault(Some(1), CUSTOMER_PATH, status(429, Some(4))));
    let config = write_config(dir.path(), &sim.base_url, "inline_wait = \"200ms\"", "");
    let bridge = BridgeProcess::start(&config).await;
    let client = http_client();
    let mut ids = Vec::new();
    for i in 0..3 {
        let answer = post(&client, &bridge, &format!("paused{i}@example.com")).await;
        assert_eq!(answer.status(), 202);
        ids.push(id_of(answer).await);
    }
    bridge.kill9().await;
    let bridge = BridgeProcess::start(&config).await;
    let finals = wait_all_final(&client, &bridge, &ids, Duration::from_secs(20)).await;
    assert!(
        finals.iter().all(|b| b["status"] == "created"),
        "{finals:?}"
    );
    let log = sim.state().requests();
    let limited = log.iter().find(|r| r.status == Some(429)).expect("the 429");
    let window_end = limited.responded_at_ms.unwrap() + 4_000;
    let inside: Vec<_> = log
        .iter()
        .filter(|r| r.seq != limited.seq && r.received_at_ms < window_end)
        .map(|r| (r.received_at_ms, r.status))
        .collect();
    assert!(
        inside.is_empty(),
        "sent inside the Retry-After window across a restart: {inside:?}"
    );
    bridge.kill9().await;
}
