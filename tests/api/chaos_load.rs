//! The chaos soak's moving parts: the simulator's fault schedule, the senders (duplicates at
//! once, retries after timeouts and refusals) and the killer (SIGKILL, then a restart).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use signup_bridge::sim::{Fault, FaultAction};

use super::helpers::{SECRET, SOURCE, signup_body, token_for};
use super::process::BridgeProcess;

/// Every 429 the simulator answers carries this `Retry-After`, in seconds.
pub const RETRY_AFTER_SECS: u64 = 1;

/// `slots` faults, one per JSM request in arrival order (a pass-through is a zero delay): 20%
/// 5xx, 5% dropped connections, 429 bursts with `Retry-After`, 3% latency spikes past the
/// bridge's request timeout. When they are spent JSM behaves, so the run can settle.
pub fn schedule(slots: usize, seed: u64) -> Vec<Fault> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut faults = Vec::with_capacity(slots);
    let one = |action| Fault {
        times: Some(1),
        path_contains: None,
        method: None,
        action,
    };
    while faults.len() < slots {
        let roll: f64 = rng.random();
        if roll < 0.20 {
            faults.push(one(FaultAction::Status {
                status: [500, 502, 503, 504][rng.random_range(0..4)],
                retry_after: None,
                process_first: rng.random_bool(0.25),
            }));
        } else if roll < 0.25 {
            faults.push(one(FaultAction::Drop {
                process_first: rng.random_bool(0.5),
            }));
        } else if roll < 0.255 {
            for _ in 0..3 {
                faults.push(one(FaultAction::Status {
                    status: 429,
                    retry_after: Some(RETRY_AFTER_SECS),
                    process_first: false,
                }));
            }
        } else if roll < 0.285 {
            faults.push(one(FaultAction::Delay {
                ms: rng.random_range(1_200..2_500),
            }));
        } else {
            faults.push(one(FaultAction::Delay { ms: 0 }));
        }
    }
    faults
}

/// What the senders saw.
#[derive(Debug, Default)]
pub struct Sent {
    /// email → every signup id a 2xx answered with.
    pub accepted: HashMap<String, Vec<String>>,
    pub requests: usize,
    pub answered_2xx: usize,
    pub timeouts: usize,
    pub connection_errors: usize,
    pub in_progress_409: usize,
    pub unavailable_5xx: usize,
    pub unexpected: Vec<String>,
}

/// The bridge as the senders see it: its current address, and the process to kill.
pub struct Target {
    pub address: RwLock<String>,
    pub process: tokio::sync::Mutex<Option<BridgeProcess>>,
    pub kills_at_ms: Mutex<Vec<u64>>,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Send every job (an email; a duplicate is the same email again, next to it so it goes at
/// once) from `senders` concurrent clients; kill and restart the bridge `kills` times, spread
/// over the run by progress.
pub async fn run(
    target: Arc<Target>,
    config: &Path,
    jobs: Vec<String>,
    senders: usize,
    kills: usize,
) -> Sent {
    let sent = Arc::new(Mutex::new(Sent::default()));
    let done = Arc::new(AtomicUsize::new(0));
    let total = jobs.len();
    let killer = {
        let (target, done, config) = (target.clone(), done.clone(), config.to_path_buf());
        tokio::spawn(async move {
            for k in 1..=kills {
                while done.load(Ordering::Relaxed) < total * k / (kills + 1) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                let mut process = target.process.lock().await;
                if let Some(bridge) = process.take() {
                    bridge.kill9().await;
                }
                target.kills_at_ms.lock().unwrap().push(now_ms());
                tokio::time::sleep(Duration::from_millis(200)).await;
                let bridge = BridgeProcess::start(&config).await;
                *target.address.write().unwrap() = bridge.address.clone();
                *process = Some(bridge);
            }
        })
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        // Shorter than `inline_wait`: a slow answer is abandoned and retried, as clients do.
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    futures_util::stream::iter(jobs)
        .for_each_concurrent(senders, |email| {
            let (client, target, sent, done) = (&client, &target, &sent, &done);
            async move {
                send_until_accepted(client, target, &email, sent).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await;
    killer.await.unwrap();
    Arc::try_unwrap(sent).unwrap().into_inner().unwrap()
}

/// One sender's signup: retried (same key, fresh token) until a 2xx, as a careful client does.
async fn send_until_accepted(
    client: &reqwest::Client,
    target: &Target,
    email: &str,
    sent: &Mutex<Sent>,
) {
    let body = signup_body(email, "Chaos Soak").to_string();
    for _ in 0..200 {
        let address = target.address.read().unwrap().clone();
        let answer = client
            .post(format!("{address}/webhooks/signup"))
            .bearer_auth(token_for(SOURCE, SECRET))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", format!("chaos-{email}"))
            .body(body.clone())
            .send()
            .await;
        // Ok(status), or Err(true) for a timeout and Err(false) for a connection error.
        let status = match &answer {
            Ok(a) => Ok(a.status().as_u16()),
            Err(e) => Err(e.is_timeout()),
        };
        {
            let mut sent = sent.lock().unwrap();
            sent.requests += 1;
            match &status {
                Ok(200..=299) => sent.answered_2xx += 1,
                Ok(409) => sent.in_progress_409 += 1,
                Ok(500..=599) => sent.unavailable_5xx += 1,
                Ok(other) => sent.unexpected.push(format!("{email}: {other}")),
                Err(true) => sent.timeouts += 1,
                Err(false) => sent.connection_errors += 1,
            }
        }
        if let (Ok(200..=299), Ok(answer)) = (status, answer) {
            // A 2xx whose body is cut by a kill still counts: the id is read when it arrives.
            if let Ok(body) = answer.json::<serde_json::Value>().await
                && let Some(id) = body["id"].as_str()
            {
                let mut sent = sent.lock().unwrap();
                sent.accepted
                    .entry(email.to_string())
                    .or_default()
                    .push(id.to_string());
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100 + (now_ms() % 200))).await;
    }
    sent.lock()
        .unwrap()
        .unexpected
        .push(format!("{email}: never accepted"));
}
