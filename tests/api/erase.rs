//! Erase (SPEC §20): `signups erase` and the console's Erase, one store function. Every signup
//! of the email keeps its id, status, times, key and account id and loses email, names and
//! profile; a replay answers `"erased": true` without a personal field; the audit log records
//! it; JSM is not called.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::console_helpers::{ALICE, Console, console_app};
use crate::helpers::*;
use crate::process::run_cli;

const PERSON: &str = "Erin.Erase@example.com";

async fn signup_with_key(app: &TestApp, email: &str, key: &str) -> reqwest::Response {
    app.post(
        &signup_body(email, "Erin Erase").to_string(),
        "application/json",
        &[("Idempotency-Key", key)],
    )
    .await
}

/// A replay of `key` until it answers erased (a running `serve` may answer a replay from
/// memory for two seconds after an erase by another process).
async fn replay_until_erased(app: &TestApp, email: &str, key: &str) -> (u16, Value) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = signup_with_key(app, email, key).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        if body["erased"] == true || tokio::time::Instant::now() > deadline {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn cli_config(app: &TestApp) -> std::path::PathBuf {
    let path = app.dir.path().join("cli.toml");
    let toml = format!("[database]\nurl = {:?}\n", app.config.database.url);
    std::fs::write(&path, toml).unwrap();
    path
}

#[tokio::test]
async fn signups_erase_keeps_the_record_and_drops_the_person() {
    let app = spawn_app().await;
    let first = signup_with_key(&app, PERSON, "erase-1").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = signup_with_key(&app, &PERSON.to_lowercase(), "erase-2").await;
    assert_eq!(again.status(), 200, "the same person again: existing");
    let other = signup_with_key(&app, "keep@example.com", "keep-1").await;
    assert_eq!(other.status(), 201);
    let account = first["customer"]["accountId"].as_str().unwrap().to_string();
    let calls_before = app.sim.state().requests().len();
    let config = cli_config(&app);

    // Without --yes and without a terminal: refused, nothing changed.
    let (code, stdout, stderr) = run_cli(&config, &["signups", "erase", "--email", PERSON]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stdout.contains("2 signup(s)"),
        "it shows what it would erase: {stdout}"
    );
    assert!(stderr.contains("--yes"), "{stderr}");
    let id = first["id"].as_str().unwrap();
    assert_eq!(app.store.signup(id).await.unwrap().unwrap().email, PERSON);

    let (code, stdout, stderr) = run_cli(
        &config,
        &[
            "signups",
            "erase",
            "--email",
            "erin.erase@EXAMPLE.com",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("erased 2 signup(s)"), "{stdout}");

    let stored = app.store.signup(id).await.unwrap().unwrap();
    assert_eq!(stored.email, "erased");
    assert_eq!(stored.display_name, "erased");
    assert_eq!(
        stored.customer,
        Some(serde_json::json!({ "accountId": account }))
    );
    assert_eq!(stored.status.as_str(), "created");
    assert_eq!(stored.idempotency_key, "erase-1");
    assert_eq!(
        rfc3339(stored.created_at),
        first["createdAt"].as_str().unwrap()
    );

    let (status, body) = replay_until_erased(&app, PERSON, "erase-1").await;
    assert_eq!(status, 201, "the status as before: {body}");
    assert_eq!(body["erased"], true, "{body}");
    assert_eq!(body["status"], "created");
    assert_eq!(body["id"], first["id"]);
    for personal in ["email", "displayName"] {
        assert!(body.get(personal).is_none(), "{personal} in {body}");
    }
    let text = body.to_string().to_lowercase();
    assert!(
        !text.contains("erin.erase") && !text.contains("erin erase"),
        "{body}"
    );
    // The GET view likewise.
    let got: Value = app.get_signup(id, &app.token()).await.json().await.unwrap();
    assert_eq!(got["erased"], true);
    assert!(got.get("email").is_none());

    let kept: Value = signup_with_key(&app, "keep@example.com", "keep-1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        kept["email"], "keep@example.com",
        "another person is untouched"
    );
    assert!(kept.get("erased").is_none());

    let audit = app.store.audit_page(None, 10).await.unwrap();
    let entry = audit.iter().find(|e| e.action == "erase").unwrap();
    assert_eq!(entry.who, "cli");
    assert_eq!(entry.signup_ids.len(), 2);
    assert!(entry.signup_ids.contains(&id.to_string()));
    // Erasing touches no JSM customer; only the replays' reads happened since.
    assert!(
        app.sim.state().requests()[calls_before..]
            .iter()
            .all(|r| r.method == "GET"),
        "no JSM write"
    );
    // Nothing left to erase, and an erased signup is never retried.
    let (code, _, _) = run_cli(&config, &["signups", "erase", "--id", id, "--yes"]);
    assert_eq!(code, 2);
    app.stop().await;
}

fn rfc3339(ms: i64) -> String {
    signup_bridge::domain::rfc3339_ms(ms)
}

#[tokio::test]
async fn a_pending_signup_erased_is_failed_and_never_retried() {
    let app = spawn_app_with(sim_config(), |c| c.delivery.inline_wait = Duration::ZERO).await;
    app.sim
        .state()
        .push_fault(fault(None, CUSTOMER_PATH, status(503, None)));
    let response = signup_with_key(&app, PERSON, "pending-1").await;
    assert_eq!(response.status(), 202);
    let id = id_of(response).await;
    let erased = app
        .store
        .erase(&signup_bridge::store::EraseTarget::Id(id.clone()), "test")
        .await
        .unwrap();
    assert_eq!(erased.len(), 1);
    let stored = app.store.signup(&id).await.unwrap().unwrap();
    assert_eq!(stored.status.as_str(), "failed");
    assert_eq!(
        app.store.retry_signup(&id, 5).await.unwrap(),
        signup_bridge::store::RetryOutcome::AlreadyDone
    );
    assert_eq!(app.store.retry_all_failed(5).await.unwrap(), 0);
    app.stop().await;
}

#[tokio::test]
async fn the_consoles_erase_confirms_then_erases_through_the_same_function() {
    let app = console_app(|_| {}).await;
    let response = signup_with_key(&app, PERSON, "console-1").await;
    let id = id_of(response).await;
    let console = Console::signed_in(&app, ALICE).await;
    let path = format!("/console/signups/{id}");
    let page = console.page(&path).await;
    assert!(page.contains("id=\"erase\""), "{page}");

    let confirm = console.page(&format!("{path}/erase")).await;
    assert!(confirm.contains("id=\"erase-count\"") && confirm.contains("<strong>1</strong>"));
    assert_eq!(
        app.store.signup(&id).await.unwrap().unwrap().email,
        PERSON,
        "the confirmation page changes nothing"
    );
    // Without the CSRF token: 403 and nothing erased.
    let no_csrf = console
        .post_raw(&format!("{path}/erase"), &[], &console.origin_headers())
        .await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.signup(&id).await.unwrap().unwrap().email, PERSON);

    let done = console.post(&format!("{path}/erase"), &[]).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        done.headers()["location"],
        format!("/console/signups/{id}?done=erased").as_str()
    );
    let stored = app.store.signup(&id).await.unwrap().unwrap();
    assert!(stored.is_erased());
    let page = console.page(&format!("{path}?done=erased")).await;
    let lower = page.to_lowercase();
    assert!(!lower.contains("erin.erase") && !lower.contains("erin erase"));
    assert!(!page.contains("id=\"erase\""));
    let audit = app.store.audit_page(None, 10).await.unwrap();
    let entry = audit.iter().find(|e| e.action == "erase").unwrap();
    assert_eq!(entry.who, "alice");
    assert_eq!(entry.signup_ids, [id]);
    app.stop().await;
}

crate::backends::also_on_postgres!(
    signups_erase_keeps_the_record_and_drops_the_person,
    a_pending_signup_erased_is_failed_and_never_retried,
);
