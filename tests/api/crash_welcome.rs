//! kill -9 of the real binary at the welcome request's worst moment — JSM has raised the
//! request, the bridge has not had the answer, so nothing is recorded — then a restart: one
//! welcome request per customer (SPEC §20).

use std::collections::HashSet;
use std::time::Duration;

use signup_bridge::sim::FaultAction;

use super::helpers::*;
use super::process::{BridgeProcess, write_config};

const REQUEST_PATH: &str = "/rest/servicedeskapi/request";
const WELCOME: &str = "welcome_request = { service_desk_id = 10, request_type_id = 5, \
                       summary = \"Welcome, {displayName}\", description = \"Log in as {email}.\" }";

#[tokio::test]
async fn kill_9_after_jsm_raised_the_welcome_requests_leaves_one_per_customer() {
    const SIGNUPS: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    // JSM raises each request at once, then holds its answer longer than the bridge lives.
    sim.state()
        .push_fault(fault(None, REQUEST_PATH, FaultAction::Delay { ms: 60_000 }));
    let delivery = "inline_wait = \"200ms\"\nrequest_timeout = \"4s\"";
    let config = write_config(dir.path(), &sim.base_url, delivery, WELCOME);
    let bridge = BridgeProcess::start(&config).await;
    let client = http_client();
    let mut ids = Vec::new();
    for i in 0..SIGNUPS {
        let answer = client
            .post(format!("{}/webhooks/signup", bridge.address))
            .bearer_auth(token_for(SOURCE, SECRET))
            .json(&signup_body(
                &format!("welcome{i}@example.com"),
                "Crash Test",
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202);
        ids.push(id_of(answer).await);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while sim.state().issues().len() < SIGNUPS && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = jsm_requests(&sim, "POST", REQUEST_PATH);
    bridge.kill9().await;
    assert_eq!(
        sim.state().issues().len(),
        SIGNUPS,
        "JSM raised every request"
    );
    // Each raised, none answered: the worst moment, for every signup.
    assert_eq!(before.len(), SIGNUPS);
    assert!(before.iter().all(|r| r.status.is_none()), "{before:?}");

    sim.state().clear_faults();
    let bridge = BridgeProcess::start(&config).await;
    let token = token_for(SOURCE, SECRET);
    for id in &ids {
        let body = poll_signup(
            &client,
            &bridge.address,
            id,
            &token,
            Duration::from_secs(120),
        )
        .await;
        assert_eq!(body["status"], "created", "{body}");
        assert_eq!(body["steps"][1]["name"], "welcome_request:10:5");
        assert_eq!(body["steps"][1]["state"], "done", "{body}");
    }
    let issues = sim.state().issues();
    let reporters: HashSet<&str> = issues.iter().map(|i| i.reporter.as_str()).collect();
    assert_eq!(issues.len(), SIGNUPS, "one welcome request per customer");
    assert_eq!(reporters.len(), SIGNUPS);
    assert_eq!(
        jsm_requests(&sim, "POST", REQUEST_PATH).len(),
        SIGNUPS,
        "none sent again"
    );
    assert_eq!(
        jsm_requests(&sim, "GET", "/rest/api/3/search/jql").len(),
        SIGNUPS,
        "each found by its search"
    );
    bridge.kill9().await;
}
