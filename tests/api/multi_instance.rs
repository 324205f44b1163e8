//! Several `serve` processes on one PostgreSQL schema behave as one bridge.
//!
//! The large test sends every key to two instances at once while the simulator answers 20% of
//! the calls with a 5xx and twice with a burst of 429s, and kills one instance with SIGKILL
//! mid-run and starts it again. At the end each email is one customer, no create was repeated
//! after JSM had the customer, every 2xx signup is final, no request reached the tenant inside
//! a `Retry-After` window and the tenant never had more than `concurrency_per_tenant` calls in
//! flight across the three.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::Value;
use signup_bridge::sim::{Fault, FaultAction, LoggedRequest, SimConfig};

use super::chaos_load::now_ms;
use super::helpers::*;
use super::postgres::test_schema;
use super::process::{BridgeProcess, write_config_on};

const INSTANCES: usize = 3;
const SIGNUPS: usize = 1_000;
const CONCURRENCY: usize = 4;
const RETRY_AFTER_SECS: u64 = 1;
const SEARCH_PATH: &str = "/rest/api/3/user/search";

/// The instances as clients see them: each one's current address and its process.
struct Instances {
    addresses: Vec<RwLock<String>>,
    processes: Vec<tokio::sync::Mutex<Option<BridgeProcess>>>,
    kills_at_ms: Mutex<Vec<u64>>,
}

/// What the clients saw.
#[derive(Debug, Default)]
struct Tally {
    /// signup number → every id a 2xx answered with.
    accepted: HashMap<usize, Vec<String>>,
    requests: usize,
    answered_2xx: usize,
    replayed: usize,
    in_progress_409: usize,
    /// 5xx answers by problem code (`storage_unavailable`, …).
    answered_5xx: std::collections::BTreeMap<String, usize>,
    transport_errors: usize,
    unexpected: Vec<String>,
}

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
    let mut addresses = Vec::new();
    let mut processes = Vec::new();
    for _ in 0..INSTANCES {
        let bridge = BridgeProcess::start(&config).await;
        addresses.push(RwLock::new(bridge.address.clone()));
        processes.push(tokio::sync::Mutex::new(Some(bridge)));
    }
    let instances = Arc::new(Instances {
        addresses,
        processes,
        kills_at_ms: Mutex::new(Vec::new()),
    });
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

/// One fault per JSM request in arrival order (a pass-through is a zero delay): 20% 5xx (a
/// quarter of them after JSM did the work), and two bursts of three 429s with `Retry-After`.
fn faults(slots: usize, seed: u64) -> Vec<Fault> {
    let mut rng = StdRng::seed_from_u64(seed);
    let one = |action| Fault {
        times: Some(1),
        path_contains: None,
        method: None,
        action,
    };
    let bursts = [slots / 6, slots / 3];
    let mut faults = Vec::with_capacity(slots);
    while faults.len() < slots {
        if bursts.contains(&faults.len()) {
            for _ in 0..3 {
                faults.push(one(FaultAction::Status {
                    status: 429,
                    retry_after: Some(RETRY_AFTER_SECS),
                    process_first: false,
                }));
            }
        } else if rng.random_bool(0.2) {
            faults.push(one(FaultAction::Status {
                status: [500, 502, 503, 504][rng.random_range(0..4)],
                retry_after: None,
                process_first: rng.random_bool(0.25),
            }));
        } else {
            faults.push(one(FaultAction::Delay { ms: 0 }));
        }
    }
    faults
}

/// Send every signup to two instances at once, each copy retried until a 2xx; kill one
/// instance with SIGKILL once 40% are accepted and start it again on the same config.
async fn send_all(instances: &Arc<Instances>, config: &std::path::Path) -> Tally {
    let tally = Mutex::new(Tally::default());
    let done = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (instances, done, config) = (instances.clone(), done.clone(), config.to_path_buf());
        tokio::spawn(async move { kill_and_restart(&instances, &done, 1, config).await })
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    futures_util::stream::iter(0..SIGNUPS)
        .for_each_concurrent(16, |i| {
            let (client, tally, done) = (&client, &tally, &done);
            async move {
                let first = send_until_accepted(client, instances, i, i % INSTANCES, tally);
                let second = send_until_accepted(client, instances, i, (i + 1) % INSTANCES, tally);
                futures_util::future::join(first, second).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await;
    killer.await.unwrap();
    tally.into_inner().unwrap()
}

async fn kill_and_restart(instances: &Instances, done: &AtomicUsize, slot: usize, config: PathBuf) {
    while done.load(Ordering::Relaxed) < SIGNUPS * 2 / 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut process = instances.processes[slot].lock().await;
    if let Some(bridge) = process.take() {
        bridge.kill9().await;
    }
    instances.kills_at_ms.lock().unwrap().push(now_ms());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let bridge = BridgeProcess::start(&config).await;
    *instances.addresses[slot].write().unwrap() = bridge.address.clone();
    *process = Some(bridge);
}

/// One copy of signup `i`: the same key and body every time, to the next instance after a
/// failure (as a load balancer would), until a 2xx.
async fn send_until_accepted(
    client: &reqwest::Client,
    instances: &Instances,
    i: usize,
    first: usize,
    tally: &Mutex<Tally>,
) {
    let body = signup_body(&format!("multi{i}@example.com"), "Multi Instance").to_string();
    for attempt in 0..300 {
        let address = instances.addresses[(first + attempt) % INSTANCES]
            .read()
            .unwrap()
            .clone();
        let answer = client
            .post(format!("{address}/webhooks/signup"))
            .bearer_auth(token_for(SOURCE, SECRET))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", format!("multi-{i}"))
            .body(body.clone())
            .send()
            .await;
        let record = |f: &dyn Fn(&mut Tally)| {
            let mut tally = tally.lock().unwrap();
            tally.requests += 1;
            f(&mut tally);
        };
        match answer {
            Err(_) => record(&|t| t.transport_errors += 1),
            Ok(answer) => match answer.status().as_u16() {
                200..=299 => {
                    let replayed = answer.headers().contains_key("idempotent-replayed");
                    // A 2xx whose body is cut by a kill still counts: the id is read when it
                    // arrives, or the copy is sent again.
                    let body: Value = answer.json().await.unwrap_or_default();
                    if let Some(id) = body["id"].as_str() {
                        record(&|t| {
                            t.answered_2xx += 1;
                            t.replayed += usize::from(replayed);
                            t.accepted.entry(i).or_default().push(id.to_string());
                        });
                        return;
                    }
                    record(&|t| t.transport_errors += 1);
                }
                409 => record(&|t| t.in_progress_409 += 1),
                status @ 500..=599 => {
                    let body: Value = answer.json().await.unwrap_or_default();
                    let code = format!("{status} {}", body["code"].as_str().unwrap_or("-"));
                    record(&|t| *t.answered_5xx.entry(code.clone()).or_default() += 1);
                }
                other => record(&|t| t.unexpected.push(format!("signup {i}: {other}"))),
            },
        }
        tokio::time::sleep(Duration::from_millis(50 + now_ms() % 100)).await;
    }
    tally
        .lock()
        .unwrap()
        .unexpected
        .push(format!("signup {i}: never accepted"));
}

/// Customer creates no failure explains: (the emails with one, each with its creates and
/// searches as `[search ]status@received_ms`; creates excused by a SIGKILL). Per email, in
/// arrival order: once a create answered 2xx or a search found the customer, any later create
/// is a repeat, unless a SIGKILL came between the sending of that request and it (the killed
/// instance may have died before it had the answer or recorded the customer). A 409 is expected only after a create that may have
/// done its work (5xx, dropped) or a failed search; any other 409 means the customer came from
/// a create running beside it.
fn repeated_creates(requests: &[LoggedRequest], kills_at_ms: &[u64]) -> (Vec<String>, usize) {
    #[derive(Default)]
    struct Email {
        /// When the request that told the bridge of the customer was sent.
        resolved_at: Option<u64>,
        /// A create may have done its work, or a search failed: one 409 is expected.
        owed: bool,
        last_sent: Option<u64>,
        repeated: bool,
        history: Vec<String>,
    }
    let mut emails: HashMap<String, Email> = HashMap::new();
    let mut excused = 0;
    for r in requests {
        let search = r.path.ends_with(SEARCH_PATH);
        let email = if search {
            reqwest::Url::parse(&format!("http://sim/?{}", r.query))
                .ok()
                .and_then(|url| {
                    url.query_pairs()
                        .find(|(key, _)| key == "query")
                        .map(|(_, value)| value.into_owned())
                })
        } else if r.method == "POST" && r.path.ends_with(CUSTOMER_PATH) {
            serde_json::from_str::<Value>(&r.body)
                .ok()
                .and_then(|body| body["email"].as_str().map(str::to_string))
        } else {
            None
        };
        let Some(email) = email else { continue };
        let e = emails.entry(email.to_lowercase()).or_default();
        let sent = r.received_at_ms;
        let status = r.status.unwrap_or(0);
        let kind = if search { "search " } else { "" };
        e.history
            .push(format!("{kind}{status}@{}", r.received_at_ms));
        let previous = e.last_sent.replace(sent);
        if search {
            match status {
                200..=299 => e.resolved_at = e.resolved_at.or(Some(sent)),
                _ => e.owed = true,
            }
            continue;
        }
        // Since when the bridge may have known that JSM had the customer.
        let known_since = match e.resolved_at {
            Some(at) => Some(at),
            None if status == 409 && !e.owed => Some(previous.unwrap_or(sent)),
            None => None,
        };
        if let Some(since) = known_since {
            if kills_at_ms.iter().any(|k| *k >= since && *k < sent) {
                excused += 1;
            } else {
                e.repeated = true;
            }
        }
        match status {
            200..=299 => e.resolved_at = e.resolved_at.or(Some(sent)),
            409 => e.owed = false,
            0 | 500..=599 => e.owed = true,
            _ => {}
        }
    }
    let mut repeats: Vec<String> = emails
        .into_iter()
        .filter(|(_, e)| e.repeated)
        .map(|(email, e)| format!("{email}: {}", e.history.join(" ")))
        .collect();
    repeats.sort();
    (repeats, excused)
}

#[test]
fn a_create_after_jsm_had_the_customer_is_a_repeat() {
    let create = |email: &str, received, status, responded| LoggedRequest {
        body: signup_body(email, "X").to_string(),
        ..logged(received, status, responded)
    };
    let search = |email: &str, received, status| LoggedRequest {
        method: "GET".into(),
        path: SEARCH_PATH.into(),
        query: format!("query={}", email.replace('@', "%40")),
        ..logged(received, Some(status), Some(received + 5))
    };
    let log = [
        create("a@x.test", 1_000, Some(201), Some(1_010)),
        create("b@x.test", 1_000, Some(500), Some(1_010)), // JSM may have done it
        create("b@x.test", 1_100, Some(409), Some(1_110)), // so this conflict is expected
        search("b@x.test", 1_120, 503),                    // the run fails before resolving
        create("b@x.test", 1_300, Some(409), Some(1_310)), // so this one is expected too
        search("b@x.test", 1_320, 200),                    // resolved
        create("c@x.test", 1_000, Some(409), Some(1_010)), // a conflict nothing explains
        create("a@x.test", 1_200, Some(409), Some(1_210)), // after a's 201
        create("b@x.test", 1_400, Some(409), Some(1_410)), // after b was resolved
        create("d@x.test", 2_000, Some(503), Some(2_010)),
        create("d@x.test", 2_020, Some(409), Some(2_030)), // the search never came
        create("d@x.test", 2_500, Some(409), Some(2_510)), // unexplained, unless a SIGKILL
    ];
    let count = |log: &[LoggedRequest], kills: &[u64]| {
        let (repeats, excused) = repeated_creates(log, kills);
        (repeats.len(), excused)
    };
    assert_eq!(count(&log[..6], &[]), (0, 0));
    assert_eq!(count(&log[..7], &[]), (1, 0));
    assert_eq!(count(&log[..8], &[]), (2, 0));
    assert_eq!(count(&log[..9], &[]), (3, 0));
    assert_eq!(count(&log[..9], &[1_330]), (2, 1));
    assert_eq!(count(&log, &[]), (4, 0));
    assert_eq!(count(&log, &[2_025]), (3, 1));
    assert_eq!(
        repeated_creates(&log[6..8], &[]).0,
        ["a@x.test: 409@1200", "c@x.test: 409@1000"].map(String::from)
    );
}

/// Instance A takes a signup and waits inline; the JSM call can only be B's: A's tenant points
/// at a port where nothing listens, and A (`concurrency_per_tenant = 1`, a test-only difference
/// between the two configs) may not claim while B holds the lease of a slow signup. A answers
/// 201 with B's outcome, before B's slow call ends, and without an attempt of its own.
#[tokio::test]
async fn an_inline_wait_on_one_instance_sees_the_outcome_of_another() {
    let name = "an_inline_wait_on_one_instance_sees_the_outcome_of_another";
    let Some(db) = test_schema(name).await else {
        return;
    };
    let sim = start_sim(sim_config()).await;
    sim.state().push_fault(fault(
        Some(1),
        CUSTOMER_PATH,
        FaultAction::Delay { ms: 6_000 },
    ));
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b = BridgeProcess::start(&write_config_on(
        dir_b.path(),
        &db.url(),
        "",
        &sim.base_url,
        "inline_wait = \"0s\"\nrequest_timeout = \"10s\"\nconcurrency_per_tenant = 4",
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
