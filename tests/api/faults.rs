//! Storage faults under a running service: a full disk (a real tmpfs the test fills), another
//! process holding SQLite's write lock, the database file deleted or made read-only. Intake answers 503 `storage_unavailable` and never a 2xx without its row, and the
//! service recovers by itself once the fault is gone.

use std::time::Duration;

use serde_json::Value;
use sqlx::Connection as _;

use super::faults_mount::Tmpfs;
use super::helpers::*;
use super::process::{BridgeProcess, write_config};

/// POST a signup with its own key; (status, body).
async fn post_keyed(app: &TestApp, email: &str) -> (u16, Value) {
    let answer = app
        .post(
            &signup_body(email, "Fault Test").to_string(),
            "application/json",
            &[("Idempotency-Key", email)],
        )
        .await;
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

fn assert_storage_unavailable(status: u16, body: &Value) {
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "storage_unavailable", "{body}");
}

#[tokio::test]
async fn a_full_disk_answers_503_never_a_2xx_without_its_row_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mnt) = Tmpfs::mount(dir.path(), "8m", "faults::a_full_disk") else {
        return;
    };
    let url = format!("sqlite://{}", mnt.path.join("bridge.db").display());
    let app = spawn_app_with(sim_config(), |c| c.database.url = url).await;
    let (status, _) = post_keyed(&app, "before@example.com").await;
    assert!(status == 201 || status == 202, "{status}");

    let filler = mnt.fill();
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for i in 0..20 {
        let email = format!("full{i}@example.com");
        let (status, body) = post_keyed(&app, &email).await;
        match status {
            201 | 202 => accepted.push(body["id"].as_str().unwrap().to_string()),
            _ => {
                assert_storage_unavailable(status, &body);
                refused.push(email);
            }
        }
    }
    assert!(!refused.is_empty(), "a full disk refused no signup");

    std::fs::remove_file(filler).unwrap();
    // The same requests again, with no restart: the service recovered by itself.
    for email in &refused {
        let (status, body) = post_keyed(&app, email).await;
        assert!(status == 201 || status == 202, "{status} {body}");
        accepted.push(body["id"].as_str().unwrap().to_string());
    }
    for id in &accepted {
        let body = app.wait_final(id, Duration::from_secs(20)).await;
        assert_eq!(body["status"], "created", "every 2xx has its row: {body}");
    }
    assert_eq!(app.sim.state().customers().len(), 21);
    app.stop().await;
}

#[tokio::test]
async fn a_held_write_lock_answers_503_after_the_busy_timeout_then_recovers() {
    let app = spawn_app().await;
    // An operator's backup (or any other process) holding SQLite's write lock.
    let mut holder = sqlx::SqliteConnection::connect(&app.config.database.url)
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let (status, body) = post_keyed(&app, "locked@example.com").await;
    assert_storage_unavailable(status, &body);
    assert_eq!(app.stored_signups().await, 0, "a 503 stored nothing");

    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    holder.close().await.unwrap();
    let (status, body) = post_keyed(&app, "locked@example.com").await;
    assert!(status == 201 || status == 202, "{status} {body}");
    app.stop().await;
}

async fn readyz(client: &reqwest::Client, bridge: &BridgeProcess) -> (u16, Value) {
    let answer = client
        .get(format!("{}/readyz", bridge.address))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// Wait (briefly) for a log line containing `needle`.
async fn logged(bridge: &BridgeProcess, needle: &str) -> bool {
    for _ in 0..50 {
        if bridge.logs().iter().any(|l| l.contains(needle)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn a_read_only_or_deleted_database_file_makes_readyz_503_with_a_clear_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    let config = write_config(dir.path(), &sim.base_url, "", "");
    let bridge = BridgeProcess::start(&config).await;
    let client = http_client();
    let db = dir.path().join("bridge.db");
    assert_eq!(readyz(&client, &bridge).await.0, 200);

    let writable = std::fs::metadata(&db).unwrap().permissions();
    let mut read_only = writable.clone();
    read_only.set_readonly(true);
    std::fs::set_permissions(&db, read_only).unwrap();
    let (status, body) = readyz(&client, &bridge).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("not_ready")));
    assert!(logged(&bridge, "not ready: the database file is read-only").await);
    std::fs::set_permissions(&db, writable).unwrap();
    assert_eq!(readyz(&client, &bridge).await.0, 200, "ready again");

    std::fs::remove_file(&db).unwrap();
    let (status, body) = readyz(&client, &bridge).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("not_ready")));
    assert!(
        body["detail"].as_str().unwrap().contains("missing"),
        "{body}"
    );
    assert!(logged(&bridge, "not ready: the database file is missing").await);
    bridge.kill9().await;
}
