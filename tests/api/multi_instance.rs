//! Several `serve` processes on one PostgreSQL schema behave as one bridge.
//!
//! The large test sends every key to two instances at once while the simulator answers 20% of
//! the calls with a 5xx and twice with a burst of 429s, and kills one instance with SIGKILL
//! mid-run and starts it again. At the end each email is one customer, no create was repeated
//! after JSM had the customer, every 2xx signup is final, no request reached the tenant inside
//! a `Retry-After` window and the tenant never had more than `concurrency_per_tenant` calls in
//! flight across the three. The small one shows an inline wait answered with the outcome of
//! another instance's worker.

mod creates;
mod senders;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde_json::Value;
use signup_bridge::sim::{FaultAction, LoggedRequest, SimConfig};

use super::helpers::*;
use super::postgres::test_schema;
use super::process::{BridgeProcess, write_config_on};
use creates::repeated_creates;
use senders::{Instances, faults, send_all};

const INSTANCES: usize = 3;
const SIGNUPS: usize = 1_000;
const CONCURRENCY: usize = 4;
const RETRY_AFTER_SECS: u64 = 1;

#[tokio::test]
async fn three_instances_on_one_database_behave_as_one_bridge() {
    let name = "three_instances_on_one_database_behave_as_one_bridge";
    let Some(db) = test_schema(name).await else {
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    // Calls that take a while, so the instances have several in flight at once.
    let sim = start_sim(SimConfig {
        latency: Duration::from_millis(20),
        ..sim_config()
    })
    .await;
    for fault in faults(SIGNUPS * 2, 12) {
        sim.state().push_fault(fault);
    }
    let delivery = format!(
        "inline_wait = \"500ms\"\nrequest_timeout = \"1s\"\nmax_attempts = 1000\n\
         concurrency_per_tenant = {CONCURRENCY}"
    );
    let config = write_config_on(
        dir.path(),
        &db.url(),
        "max_connections = 6",
        &sim.base_url,
        &delivery,
        "",
    );
    let instances = Arc::new(Instances::start(&config).await);
    let tally = send_all(&instances, &config).await;
    assert!(tally.unexpected.is_empty(), "{:?}", tally.unexpected);
    assert_eq!(tally.accepted.len(), SIGNUPS, "every signup got a 2xx");

    // Every 2xx signup ends final, whichever instance is asked.
    let client = http_client();
    let token = token_for(SOURCE, SECRET);
    let mut finals: HashMap<String, usize> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let polls = futures_util::stream::iter(&tally.accepted)
        .map(|(i, ids)| {
            assert!(ids.iter().all(|id| *id == ids[0]), "signup {i}: {ids:?}");
            let address = instances.addresses[i % INSTANCES].read().unwrap().clone();
            let (client, token) = (&client, &token);
            let left = deadline.saturating_duration_since(Instant::now());
            async move { poll_signup(client, &address, &ids[0], token, left).await }
        })
        .buffer_unordered(8)
        .collect::<Vec<Value>>()
        .await;
    for body in polls {
        let status = body["status"].as_str().unwrap_or("?").to_string();
        assert!(status == "created" || status == "existing", "{body}");
        *finals.entry(status).or_default() += 1;
    }
    for process in &instances.processes {
        if let Some(bridge) = process.lock().await.take() {
            bridge.terminate().await;
        }
    }
    let (stored,): (i64,) = sqlx::query_as("SELECT count(*) FROM signups")
        .fetch_one(&db.pool)
        .await
        .unwrap();

    let requests = sim.state().requests();
    let kills = instances.kills_at_ms.lock().unwrap().clone();
    let mut customers: HashMap<String, usize> = HashMap::new();
    for customer in sim.state().customers() {
        *customers
            .entry(customer.email_address.to_lowercase())
            .or_default() += 1;
    }
    let (repeats, repeats_excused) = repeated_creates(&requests, &kills);
    let (breaches, breaches_excused) =
        retry_after_breaches(&requests, RETRY_AFTER_SECS * 1000, &kills);
    let in_flight = max_in_flight(&requests);
    let count = |f: &dyn Fn(&LoggedRequest) -> bool| requests.iter().filter(|r| f(r)).count();
    let (answered_5xx, answered_429) = (
        count(&|r| r.status.is_some_and(|s| s >= 500)),
        count(&|r| r.status == Some(429)),
    );
    println!(
        "multi-instance: {SIGNUPS} signups, each sent to two of {INSTANCES} instances, {} SIGKILL \
         restart, {:.1?}; clients: {} requests, {} 2xx ({} replayed), {} 409 in progress, 5xx {:?}, \
         {} transport errors; JSM: {} requests, {answered_5xx} 5xx, {answered_429} 429 \
         (Retry-After {RETRY_AFTER_SECS}s), at most {in_flight} in flight (limit {CONCURRENCY}); \
         outcome: {} customers, {stored} stored signups, {} created, {} existing, {} \
         emails with a repeated create ({repeats_excused} after a SIGKILL), {breaches} requests inside a \
         Retry-After window ({breaches_excused} after a SIGKILL)",
        kills.len(),
        started.elapsed(),
        tally.requests,
        tally.answered_2xx,
        tally.replayed,
        tally.in_progress_409,
        tally.answered_5xx,
        tally.transport_errors,
        requests.len(),
        customers.len(),
        finals.get("created").unwrap_or(&0),
        finals.get("existing").unwrap_or(&0),
        repeats.len(),
    );
    assert_eq!(kills.len(), 1);
    assert!(
        answered_5xx > 0 && answered_429 > 0,
        "the faults were served"
    );
    assert_eq!(customers.len(), SIGNUPS, "a customer for every email");
    assert!(customers.values().all(|n| *n == 1), "a duplicate customer");
    assert_eq!(stored, SIGNUPS as i64, "one stored signup per key");
    assert!(
        repeats.is_empty(),
        "creates after JSM had the customer: {repeats:#?}"
    );
    assert_eq!(breaches, 0, "a request inside a Retry-After window");
    assert!(in_flight <= CONCURRENCY, "{in_flight} calls in flight");
    sim.stop().await;
    db.drop().await;
}

/// Instance A takes a signup and waits inline; the JSM call can only be B's: A's tenant points
/// at a port where nothing listens, and A (`concurrency_per_tenant = 1`, a test-only difference
/// between the two configs) may not claim while B holds the lease of a slow signup. A answers
/// 201 with B's outcome, before B's slow call ends, and without an attempt of its own. A has a
/// second after its start to connect its listener: B's notification is what wakes the wait.
#[tokio::test]
async fn an_inline_wait_on_one_instance_sees_the_outcome_of_another() {
    let name = "an_inline_wait_on_one_instance_sees_the_outcome_of_another";
    inline_wait_on_a_sees_b(name, Duration::from_secs(1)).await;
}

/// The same, with the signup sent the moment A says it is listening: B's notification may
/// come before A's listener is connected, and the wait must then find the outcome by reading
/// the signup again (the polling that backs the notifications), not only when it ends.
#[tokio::test]
async fn an_inline_wait_sent_as_an_instance_starts_sees_the_outcome_of_another() {
    let name = "an_inline_wait_sent_as_an_instance_starts_sees_the_outcome_of_another";
    inline_wait_on_a_sees_b(name, Duration::ZERO).await;
}

/// A's inline wait answered with B's outcome, the signup sent `settle` after A started.
async fn inline_wait_on_a_sees_b(name: &str, settle: Duration) {
    let Some(db) = test_schema(name).await else {
        return;
    };
    let sim = start_sim(sim_config()).await;
    // Long enough for A to start and answer under a loaded machine.
    sim.state().push_fault(fault(
        Some(1),
        CUSTOMER_PATH,
        FaultAction::Delay { ms: 15_000 },
    ));
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b = BridgeProcess::start(&write_config_on(
        dir_b.path(),
        &db.url(),
        "",
        &sim.base_url,
        "inline_wait = \"0s\"\nrequest_timeout = \"20s\"\nconcurrency_per_tenant = 4",
        "",
    ))
    .await;
    let client = http_client();
    let slow = client
        .post(format!("{}/webhooks/signup", b.address))
        .bearer_auth(token_for(SOURCE, SECRET))
        .json(&signup_body("slow@example.com", "Slow"))
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(10);
    while jsm_requests(&sim, "POST", CUSTOMER_PATH).is_empty() {
        assert!(Instant::now() < deadline, "B never called JSM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let a = BridgeProcess::start(&write_config_on(
        dir_a.path(),
        &db.url(),
        "",
        &dead_url,
        "inline_wait = \"20s\"\nrequest_timeout = \"10s\"\nconcurrency_per_tenant = 1",
        "",
    ))
    .await;
    tokio::time::sleep(settle).await;
    let sent = Instant::now();
    let answer = client
        .post(format!("{}/webhooks/signup", a.address))
        .bearer_auth(token_for(SOURCE, SECRET))
        .json(&signup_body("inline@example.com", "Inline"))
        .send()
        .await
        .unwrap();
    let took = sent.elapsed();
    let slow_still_running = jsm_requests(&sim, "POST", CUSTOMER_PATH)[0]
        .status
        .is_none();
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    println!("inline wait on A answered {status} in {took:.0?} with B's outcome");
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "created");
    assert_eq!(body["attempts"], 1, "A made an attempt: {body}");
    assert_eq!(body["lastError"], Value::Null);
    // Woken by B's outcome, not by the end of A's 20 s inline wait: B's call (15 s) was
    // still running when A answered. No clock is compared, so a slow machine cannot fail it.
    assert!(
        slow_still_running,
        "answered only after B's slow call ended"
    );
    let creates = jsm_requests(&sim, "POST", CUSTOMER_PATH);
    assert_eq!(creates.len(), 2);
    assert!(creates[1].body.contains("inline@example.com"));
    a.kill9().await;
    b.kill9().await;
    sim.stop().await;
    db.drop().await;
}
