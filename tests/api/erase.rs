//! Erase (SPEC §20): `signups erase` and the console's Erase, one store function. Every signup
//! of the email keeps its id, status, times, key and account id and loses email, names and
//! profile, and the texts its failed runs left lose every trace of the person; a replay answers
//! `"erased": true` without a personal field; the audit log records it; JSM is not called. An
//! email with non-ASCII capitals is found in any case on both backends.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use signup_bridge::sim::FaultAction;
use sqlx::Row;

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

/// Every value of every text column of every table of the bridge's database (but its random
/// secrets), one per line.
async fn every_text(url: &str) -> String {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let columns_sql = if url.starts_with("sqlite:") {
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND upper(p.type) = 'TEXT'"
    } else {
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns
         WHERE table_schema = current_schema() AND data_type = 'text'"
    };
    let columns = sqlx::query(columns_sql).fetch_all(&pool).await.unwrap();
    assert!(
        columns.len() > 20,
        "the schema's text columns: {}",
        columns.len()
    );
    let mut all = String::new();
    for column in &columns {
        let (table, name): (String, String) = (column.get("t"), column.get("c"));
        if table == "local_secrets" {
            // Random secrets the bridge made: nothing of a person, and any letters at all.
            continue;
        }
        let values: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT \"{name}\" FROM \"{table}\""
        )))
        .fetch_all(&pool)
        .await
        .unwrap();
        for value in values.into_iter().flatten() {
            all.push_str(&format!("{table}.{name}: {value}\n"));
        }
    }
    pool.close().await;
    all
}

/// What no text may hold once Erin is erased: her email, its masked form, her name.
fn assert_no_trace(what: &str, text: &str) {
    let lower = text.to_lowercase();
    for personal in ["erin", "e***@", "***@example.com"] {
        assert!(!lower.contains(personal), "{personal:?} in {what}:\n{text}");
    }
}

#[tokio::test]
async fn a_failed_signup_erased_keeps_what_happened_and_nothing_of_the_person() {
    let app = console_app(|_| {}).await;
    // JSM quotes the person: once with a 503 (a run to retry), then with a 400 (failed).
    let quote = |status| fault(Some(1), CUSTOMER_PATH, FaultAction::Quote { status });
    app.sim.state().push_fault(quote(503));
    app.sim.state().push_fault(quote(400));
    let id = id_of(signup_with_key(&app, PERSON, "failed-1").await).await;
    let body = app.wait_final(&id, Duration::from_secs(30)).await;
    assert_eq!(body["status"], "failed", "{body}");
    let before = app.store.signup(&id).await.unwrap().unwrap();
    let detail = before.last_error_detail.clone().unwrap_or_default();
    assert!(
        detail.contains("Erin Erase") && detail.contains("E***@example.com"),
        "the failure quotes the person before the erase: {detail}"
    );
    let runs = app.store.signup_attempts(&id, 10).await.unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs[0].detail.contains("Erin Erase"), "{runs:?}");

    let config = cli_config(&app);
    let (code, stdout, stderr) =
        run_cli(&config, &["signups", "erase", "--email", PERSON, "--yes"]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let (code, shown, stderr) = run_cli(&config, &["signups", "show", &id, "--reveal"]);
    assert_eq!(code, 0, "{stderr}");
    assert_no_trace("signups show --reveal", &shown);
    let shown: Value = serde_json::from_str(&shown).unwrap();
    // What happened stays: the status, the category, the step, the HTTP status, JSM's words.
    assert_eq!(shown["status"], "failed");
    assert_eq!(shown["lastError"], body["lastError"]);
    let detail = shown["lastErrorDetail"].as_str().unwrap();
    assert!(
        detail.starts_with("create: JSM rejected the request (400): The customer '[erased]'")
            && detail.ends_with("could not be created."),
        "{detail}"
    );
    let runs = app.store.signup_attempts(&id, 10).await.unwrap();
    assert_eq!(
        runs.iter()
            .map(|r| (r.run, r.outcome.as_str()))
            .collect::<Vec<_>>(),
        [(1, "retry"), (2, "failed")]
    );
    assert!(
        runs[0].detail.starts_with("create: JSM answered 503"),
        "{runs:?}"
    );

    let console = Console::signed_in(&app, ALICE).await;
    let page = console.page(&format!("/console/signups/{id}")).await;
    assert!(
        page.contains("JSM answered 503"),
        "the run history is shown: {page}"
    );
    assert_no_trace("the console's signup page", &page);
    let revealed = console
        .post(&format!("/console/signups/{id}/reveal"), &[])
        .await
        .text()
        .await
        .unwrap();
    assert_no_trace("the console's revealed page", &revealed);
    assert_no_trace("the database", &every_text(&app.config.database.url).await);
    app.stop().await;
}

/// A signup of `email` (201), its id.
async fn signup_of(app: &TestApp, email: &str, key: &str) -> String {
    let response = signup_with_key(app, email, key).await;
    assert_eq!(response.status(), 201, "{email}");
    id_of(response).await
}

#[tokio::test]
async fn non_ascii_capitals_are_found_in_any_case_by_list_console_and_erase() {
    let app = console_app(|_| {}).await;
    let id = signup_of(&app, "ÉMILE.Zoë@example.com", "emile-1").await;
    let lookalike = signup_of(&app, "emile.zoe@example.com", "emile-2").await;
    let searched = "émile.ZOË@example.com";
    let config = cli_config(&app);

    let (code, listed, stderr) =
        run_cli(&config, &["signups", "list", "--email", searched, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(
        listed.contains(&id) && !listed.contains(&lookalike),
        "{listed}"
    );

    let console = Console::signed_in(&app, ALICE).await;
    let query = percent_encoding::utf8_percent_encode(searched, percent_encoding::NON_ALPHANUMERIC);
    let page = console
        .page(&format!("/console/signups?email={query}"))
        .await;
    assert!(page.contains(&id) && !page.contains(&lookalike), "{page}");

    let (code, stdout, stderr) =
        run_cli(&config, &["signups", "erase", "--email", searched, "--yes"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("erased 1 signup(s)"), "{stdout}");
    assert!(app.store.signup(&id).await.unwrap().unwrap().is_erased());
    let kept = app.store.signup(&lookalike).await.unwrap().unwrap();
    assert_eq!(
        kept.email, "emile.zoe@example.com",
        "another person is untouched"
    );
    app.stop().await;
}

crate::backends::also_on_postgres!(
    signups_erase_keeps_the_record_and_drops_the_person,
    a_pending_signup_erased_is_failed_and_never_retried,
    a_failed_signup_erased_keeps_what_happened_and_nothing_of_the_person,
    non_ascii_capitals_are_found_in_any_case_by_list_console_and_erase,
);
