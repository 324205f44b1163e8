//! The clients of the multi-instance test: every signup sent to two instances at once, each
//! copy retried until a 2xx; the killer; the simulator's fault schedule.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures_util::StreamExt as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::Value;
use signup_bridge::sim::{Fault, FaultAction};

use super::super::chaos_load::now_ms;
use super::super::helpers::{SECRET, SOURCE, signup_body, token_for};
use super::super::process::BridgeProcess;
use super::{INSTANCES, RETRY_AFTER_SECS, SIGNUPS};

/// The instances as clients see them: each one's current address and its process.
pub struct Instances {
    pub addresses: Vec<RwLock<String>>,
    pub processes: Vec<tokio::sync::Mutex<Option<BridgeProcess>>>,
    pub kills_at_ms: Mutex<Vec<u64>>,
}

impl Instances {
    /// Start `INSTANCES` bridges on `config`.
    pub async fn start(config: &Path) -> Instances {
        let mut addresses = Vec::new();
        let mut processes = Vec::new();
        for _ in 0..INSTANCES {
            let bridge = BridgeProcess::start(config).await;
            addresses.push(RwLock::new(bridge.address.clone()));
            processes.push(tokio::sync::Mutex::new(Some(bridge)));
        }
        Instances {
            addresses,
            processes,
            kills_at_ms: Mutex::new(Vec::new()),
        }
    }
}

/// What the clients saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// signup number → every id a 2xx answered with.
    pub accepted: HashMap<usize, Vec<String>>,
    pub requests: usize,
    pub answered_2xx: usize,
    pub replayed: usize,
    pub in_progress_409: usize,
    /// 5xx answers by problem code (`storage_unavailable`, …).
    pub answered_5xx: BTreeMap<String, usize>,
    pub transport_errors: usize,
    pub unexpected: Vec<String>,
}

/// One fault per JSM request in arrival order (a pass-through is a zero delay): 20% 5xx (a
/// quarter of them after JSM did the work), and two bursts of three 429s with `Retry-After`.
pub fn faults(slots: usize, seed: u64) -> Vec<Fault> {
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
pub async fn send_all(instances: &Arc<Instances>, config: &Path) -> Tally {
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
