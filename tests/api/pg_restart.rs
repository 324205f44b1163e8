//! A PostgreSQL restart under one running bridge: during the outage signups are answered 503
//! (never a 2xx for something not stored) and `/readyz` says 503; afterwards the same process
//! is ready again, and every signup answered 2xx before, during or after is stored and ends
//! final.
//!
//! Stopping the server breaks every other test using it at the time, so this one runs only when
//! `SIGNUP_BRIDGE_TEST_POSTGRES_RESTART=1` is set as well, on its own:
//! `SIGNUP_BRIDGE_TEST_POSTGRES_RESTART=1 cargo test --test api pg_restart`.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::PgConnectOptions;

use super::helpers::*;
use super::postgres::{URL_VAR, test_schema};
use super::process::{BridgeProcess, write_config_on};

const RESTART_VAR: &str = "SIGNUP_BRIDGE_TEST_POSTGRES_RESTART";

/// The local cluster (`pg_lsclusters`) serving a port; started again when dropped, so a failed
/// test does not leave the server down.
struct Cluster {
    version: String,
    name: String,
}

impl Cluster {
    fn serving(port: u16) -> Cluster {
        let out = std::process::Command::new("pg_lsclusters")
            .arg("--no-header")
            .output()
            .expect("pg_lsclusters (postgresql-common) runs");
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find(|fields| fields.get(2) == Some(&port.to_string().as_str()))
            .map(|fields| Cluster {
                version: fields[0].to_string(),
                name: fields[1].to_string(),
            })
            .unwrap_or_else(|| panic!("no local cluster on port {port}:\n{text}"))
    }

    async fn ctl(&self, action: &str) {
        let status = tokio::process::Command::new("pg_ctlcluster")
            .args([
                "--skip-systemctl-redirect",
                &self.version,
                &self.name,
                action,
            ])
            .args(if action == "stop" {
                &["-m", "fast"][..]
            } else {
                &[]
            })
            .status()
            .await
            .expect("pg_ctlcluster runs");
        assert!(status.success(), "pg_ctlcluster {action}: {status}");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Already running: pg_ctlcluster says so and changes nothing.
        let _ = std::process::Command::new("pg_ctlcluster")
            .args([
                "--skip-systemctl-redirect",
                &self.version,
                &self.name,
                "start",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// POST a new signup; its status and, for a 2xx, its id.
async fn post(client: &reqwest::Client, address: &str, email: &str) -> (u16, Option<String>) {
    let answer = client
        .post(format!("{address}/webhooks/signup"))
        .bearer_auth(token_for(SOURCE, SECRET))
        .json(&signup_body(email, "Restart"))
        .send()
        .await
        .expect("the bridge answers");
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.unwrap_or_default();
    (status, body["id"].as_str().map(str::to_string))
}

async fn readyz(client: &reqwest::Client, address: &str) -> (u16, Value) {
    let answer = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .expect("the bridge answers");
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_postgresql_restart_is_survived() {
    let name = "a_postgresql_restart_is_survived";
    if std::env::var(RESTART_VAR).as_deref() != Ok("1") {
        super::skip::skipped(
            concat!(module_path!(), "::a_postgresql_restart_is_survived"),
            &format!("{RESTART_VAR} is not 1: it stops the server; .ci/run runs it alone"),
        );
        return;
    }
    let Some(db) = test_schema(name).await else {
        return;
    };
    let url = std::env::var(URL_VAR).unwrap();
    let port = url.parse::<PgConnectOptions>().unwrap().get_port();
    let cluster = Cluster::serving(port);
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    let config = write_config_on(dir.path(), &db.url(), "", &sim.base_url, "", "");
    let mut bridge = BridgeProcess::start(&config).await;
    let address = bridge.address.clone();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    let mut accepted = Vec::new();
    for i in 0..10 {
        let (status, id) = post(&client, &address, &format!("before{i}@example.com")).await;
        assert!((200..300).contains(&status), "before the restart: {status}");
        accepted.push(id.unwrap());
    }

    // A sender keeps going through the outage: every answer a 2xx or a 503.
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (client, address, stop) = (client.clone(), address.clone(), stop.clone());
        tokio::spawn(async move {
            let mut answers = Vec::new();
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                answers.push(post(&client, &address, &format!("during{i}@example.com")).await);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            answers
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.ctl("stop").await;
    let (status, body) = readyz(&client, &address).await;
    assert_eq!(status, 503, "readyz while PostgreSQL is down: {body}");
    assert_eq!(body["code"], "not_ready");
    let (status, _) = post(&client, &address, "outage@example.com").await;
    assert_eq!(status, 503, "a signup while PostgreSQL is down");
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.ctl("start").await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while readyz(&client, &address).await.0 != 200 {
        assert!(tokio::time::Instant::now() < deadline, "not ready again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let during = sender.await.unwrap();
    let refused = during.iter().filter(|(s, _)| *s == 503).count();
    for (status, id) in &during {
        match status {
            200..=299 => accepted.push(id.clone().expect("a 2xx has an id")),
            503 => {}
            other => panic!("during the outage: {other}"),
        }
    }
    for i in 0..10 {
        let (status, id) = post(&client, &address, &format!("after{i}@example.com")).await;
        assert!((200..300).contains(&status), "after the restart: {status}");
        accepted.push(id.unwrap());
    }
    assert!(bridge.is_running(), "the bridge exited");

    let token = token_for(SOURCE, SECRET);
    for id in &accepted {
        let body = poll_signup(&client, &address, id, &token, Duration::from_secs(30)).await;
        assert!(
            body["status"] == "created" || body["status"] == "existing",
            "{id}: {body}"
        );
    }
    let stored: HashSet<String> = sqlx::query_scalar("SELECT id FROM signups")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert!(
        accepted.iter().all(|id| stored.contains(id)),
        "a 2xx not stored"
    );
    let emails: HashSet<String> = sim
        .state()
        .customers()
        .into_iter()
        .map(|c| c.email_address)
        .collect();
    assert_eq!(
        emails.len(),
        sim.state().customers().len(),
        "a duplicate customer"
    );
    println!(
        "PostgreSQL restart: {} signups answered during the outage ({refused} with 503), {} \
         accepted in all, every one stored and final; {} customers",
        during.len(),
        accepted.len(),
        emails.len()
    );
    // The outage itself was met above (readyz and a signup answered 503); the sender's requests
    // may all have waited for their connection past the restart, and been stored.
    let status = bridge.terminate().await;
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    sim.stop().await;
    db.drop().await;
}
