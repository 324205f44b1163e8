//! The chaos soak: many concurrent senders, duplicates sent at once and client retries, while
//! the simulator injects 5xx, dropped connections, 429 bursts with `Retry-After` and latency
//! spikes, and the bridge is killed with SIGKILL and restarted. At the end every distinct email
//! is exactly one customer, every 2xx is stored and final, nothing is pending, and no request
//! reached the tenant inside a `Retry-After` window.
//!
//! The short form runs with `cargo test`; the long form (2,000 signups, four kills) is ignored:
//! `cargo test --release --test api -- --ignored chaos --nocapture`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use signup_bridge::store::Store;

use super::chaos_load::{self, RETRY_AFTER_SECS, Target};
use super::helpers::*;
use super::process::{BridgeProcess, write_config};

struct Size {
    signups: usize,
    senders: usize,
    kills: usize,
    settle: Duration,
}

#[tokio::test]
async fn chaos_short_soak() {
    soak(Size {
        signups: 300,
        senders: 16,
        kills: 2,
        settle: Duration::from_secs(60),
    })
    .await;
}

#[tokio::test]
#[ignore = "the long form: 2,000 signups and four SIGKILLs, several minutes"]
async fn chaos_long_soak() {
    soak(Size {
        signups: 2_000,
        senders: 32,
        kills: 4,
        settle: Duration::from_secs(600),
    })
    .await;
}

async fn soak(size: Size) {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    let faults = chaos_load::schedule(size.signups * 3, 13);
    for fault in faults {
        sim.state().push_fault(fault);
    }
    let config = write_config(
        dir.path(),
        &sim.base_url,
        "inline_wait = \"1s\"\nrequest_timeout = \"1s\"\nmax_attempts = 1000",
        "",
    );
    let bridge = BridgeProcess::start(&config).await;
    let target = Arc::new(Target {
        address: RwLock::new(bridge.address.clone()),
        process: tokio::sync::Mutex::new(Some(bridge)),
        kills_at_ms: Mutex::new(Vec::new()),
    });

    // 70% distinct emails; the other 30% are duplicates queued right behind their original.
    let distinct = size.signups * 7 / 10;
    let mut jobs = Vec::with_capacity(size.signups);
    for i in 0..distinct {
        jobs.push(format!("chaos{i}@example.com"));
        if i < size.signups - distinct {
            jobs.push(format!("chaos{i}@example.com"));
        }
    }
    let sent = chaos_load::run(target.clone(), &config, jobs, size.senders, size.kills).await;
    assert!(sent.unexpected.is_empty(), "{:?}", sent.unexpected);

    // Every accepted signup reaches a final state; a duplicate got its original's id.
    let address = target.address.read().unwrap().clone();
    let client = http_client();
    let token = token_for(SOURCE, SECRET);
    let deadline = Instant::now() + size.settle;
    for (email, ids) in &sent.accepted {
        assert!(ids.iter().all(|id| *id == ids[0]), "{email}: {ids:?}");
        let left = deadline.saturating_duration_since(Instant::now());
        let body = poll_signup(&client, &address, &ids[0], &token, left).await;
        assert!(
            body["status"] == "created" || body["status"] == "existing",
            "{email}: {body}"
        );
    }
    let bridge = target.process.lock().await.take().unwrap();
    bridge.terminate().await;

    let store = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("bridge.db").display()
    ))
    .await
    .unwrap();
    let stored = store
        .find_signups(&Default::default(), 100_000)
        .await
        .unwrap();
    store.close().await;
    let pending = stored.iter().filter(|s| !s.status.is_final()).count();
    let by_id: HashMap<&str, _> = stored.iter().map(|s| (s.id.as_str(), s)).collect();
    for ids in sent.accepted.values() {
        assert!(by_id.contains_key(ids[0].as_str()), "a 2xx without its row");
    }

    let customers = sim.state().customers();
    let mut per_email: HashMap<String, usize> = HashMap::new();
    for customer in &customers {
        *per_email
            .entry(customer.email_address.to_lowercase())
            .or_default() += 1;
    }
    let requests = sim.state().requests();
    let (breaches, excused) = retry_after_breaches(
        &requests,
        RETRY_AFTER_SECS * 1000,
        &target.kills_at_ms.lock().unwrap(),
    );
    let kills = target.kills_at_ms.lock().unwrap().len();
    let count = |f: fn(&signup_bridge::sim::LoggedRequest) -> bool| {
        requests.iter().filter(|r| f(r)).count()
    };

    println!(
        "chaos soak: {} signup jobs ({distinct} distinct emails, {} duplicates), {} senders, \
         {kills} SIGKILL restarts, {:.0?}\n\
         senders: {} requests, {} answered 2xx, {} timeouts, {} connection errors, {} 409 in \
         progress, {} 5xx\n\
         simulator: {} JSM requests; answered {} 5xx, {} dropped, {} 429 (Retry-After {}s), {} \
         slower than 1s\n\
         outcome: {} customers for {} distinct emails, {} stored signups, {} pending, {} \
         requests inside a Retry-After window ({} more after a SIGKILL restart)",
        size.signups,
        size.signups - distinct,
        size.senders,
        started.elapsed(),
        sent.requests,
        sent.answered_2xx,
        sent.timeouts,
        sent.connection_errors,
        sent.in_progress_409,
        sent.unavailable_5xx,
        requests.len(),
        count(|r| r.status.is_some_and(|s| s >= 500)),
        count(|r| r.dropped),
        count(|r| r.status == Some(429)),
        RETRY_AFTER_SECS,
        count(|r| {
            r.responded_at_ms
                .is_some_and(|at| at > r.received_at_ms + 1_000)
        }),
        customers.len(),
        distinct,
        stored.len(),
        pending,
        breaches,
        excused,
    );
    assert_eq!(kills, size.kills);
    assert_eq!(sent.accepted.len(), distinct, "every email got a 2xx");
    assert_eq!(per_email.len(), distinct, "a customer for every email");
    assert!(per_email.values().all(|n| *n == 1), "a duplicate customer");
    assert_eq!(pending, 0, "nothing pending");
    assert_eq!(breaches, 0, "a request inside a Retry-After window");
    sim.stop().await;
}
