//! What trips a newcomer, through the real binary: reading commands run in the wrong
//! directory, a token `serve` would refuse, JSON sent as a form, `serve` without sources, the
//! operator's lists and counts, and `sign` repeating a delivery.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::helpers::*;
use super::process::{BridgeProcess, run_cli, write_config};
use super::vendors::WHSEC;

/// Run the binary in `dir` with no config file and no database URL from the environment.
fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env_remove("SIGNUP_BRIDGE_CONFIG")
        .env_remove("SIGNUP_BRIDGE_DATABASE_URL")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn reading_commands_never_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 6] = [
        &["token", "--source", "sandbox"],
        &["signups", "list"],
        &["signups", "stats"],
        &["signups", "show", "some-id"],
        &["signups", "retry", "--failed"],
        &["installations", "list", "--json"],
    ];
    for args in commands {
        let (code, stdout, stderr) = run_in(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(
            stderr.contains("no database at ") && stderr.contains("signup-bridge.db"),
            "{args:?} names the file it looked for: {stderr}"
        );
        assert!(
            stderr.contains("SIGNUP_BRIDGE_DATABASE_URL") && stderr.contains("--config"),
            "{args:?} says how to point at the right one: {stderr}"
        );
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "{args:?} created a file"
        );
    }
}

#[test]
fn a_sandbox_token_needs_the_sandbox_secret_in_the_database() {
    // A database of a `serve` without --sandbox: `token --source sandbox` must not invent one.
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_in(dir.path(), &["migrate"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run_in(dir.path(), &["token", "--source", "sandbox"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("no sandbox secret"), "{stderr}");
}

#[test]
fn a_token_longer_than_serve_accepts_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9", "", "");
    let (code, stdout, stderr) = run_cli(&config, &["token", "--source", SOURCE, "--ttl", "2h"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "no token printed: {stdout}");
    assert!(
        stderr.contains("auth.max_token_lifetime") && stderr.contains("1h"),
        "{stderr}"
    );
    let (code, stdout, _) = run_cli(&config, &["token", "--source", SOURCE, "--ttl", "1h"]);
    assert_eq!(
        (code, stdout.lines().count()),
        (0, 1),
        "the limit itself is fine"
    );
}

#[tokio::test]
async fn json_sent_with_the_form_content_type_is_named() {
    let app = spawn_app().await;
    let answer = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(app.token())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(r#"{"email":"fred@example.com","displayName":"Fred"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let problem: Value = answer.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_payload");
    assert_eq!(problem["errors"][0]["field"], "body");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("is JSON") && message.contains("Content-Type: application/json"),
        "{problem}"
    );
    assert_eq!(app.stored_signups().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn serve_without_sources_warns_that_every_webhook_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.toml");
    let db = format!("sqlite://{}", dir.path().join("b.db").display());
    std::fs::write(
        &path,
        format!("[server]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"{db}\"\n"),
    )
    .unwrap();
    let bridge = BridgeProcess::start(&path).await;
    let logs = bridge.logs().join("\n");
    assert!(
        logs.contains("no [[sources]] configured") && logs.contains("refused"),
        "{logs}"
    );
    bridge.kill9().await;
}

#[tokio::test]
async fn signups_can_be_found_counted_and_retried_with_a_wait() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    let config = write_config(dir.path(), &sim.base_url, "max_attempts = 1", "");
    let bridge = BridgeProcess::start(&config).await;
    let (code, stdout, _) = run_cli(&config, &["signups", "list"]);
    assert_eq!((code, stdout.trim()), (0, "no signups"));
    let (code, stdout, _) = run_cli(&config, &["signups", "list", "--json"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    let (code, stdout, _) = run_cli(&config, &["installations", "list"]);
    assert_eq!((code, stdout.trim()), (0, "no installations"));
    let (code, _, stderr) = run_cli(&config, &["signups", "retry", "--failed"]);
    assert_eq!(code, 2, "nothing to retry: {stderr}");

    let client = http_client();
    let post = |email: &'static str| {
        client
            .post(format!("{}/webhooks/signup", bridge.address))
            .bearer_auth(token_for(SOURCE, SECRET))
            .json(&signup_body(email, "N"))
            .send()
    };
    assert_eq!(post("ok@example.com").await.unwrap().status(), 201);
    sim.state()
        .push_fault(fault(Some(1), CUSTOMER_PATH, status(503, None)));
    let failed = post("Later@Example.com").await.unwrap();
    assert_eq!(failed.status(), 422);
    let failed_id = id_of(failed).await;

    let (_, text, _) = run_cli(&config, &["signups", "list"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[0],
        "id\tstatus\ttenant\temail\tattempts\tupdatedAt\tsource\tlastError"
    );
    let row: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(row[0], failed_id);
    assert_eq!(&row[1..4], ["failed", TENANT, "L***@Example.com"]);
    assert_eq!(row[6], SOURCE);
    assert_ne!(row[7], "-", "the lastError column: {text}");
    let (_, found, _) = run_cli(
        &config,
        &["signups", "list", "--json", "--email", "later@EXAMPLE.com"],
    );
    let found: Vec<Value> = found
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], failed_id.as_str());
    assert_eq!(found[0]["source"], SOURCE);
    assert!(found[0]["lastError"].is_string());
    let (_, none, _) = run_cli(&config, &["signups", "list", "--tenant", "elsewhere"]);
    assert_eq!(none.trim(), "no signups");
    let (_, by_source, _) = run_cli(&config, &["signups", "list", "--source", SOURCE]);
    assert_eq!(by_source.lines().count(), 3);
    let (code, stats, _) = run_cli(&config, &["signups", "stats", "--json"]);
    assert_eq!(code, 0);
    let stats: Value = serde_json::from_str(stats.trim()).unwrap();
    assert_eq!(
        stats,
        serde_json::json!({"pending": 0, "created": 1, "existing": 0, "failed": 1, "total": 2})
    );
    let (_, stats, _) = run_cli(&config, &["signups", "stats"]);
    assert!(
        stats.contains("failed\t1") && stats.contains("total\t2"),
        "{stats}"
    );

    let (code, out, stderr) = run_cli(
        &config,
        &["signups", "retry", "--failed", "--wait", "--timeout", "60s"],
    );
    assert_eq!(code, 0, "{out} {stderr}");
    assert!(
        out.contains("re-queued 1") && out.contains(&format!("{failed_id}\tcreated")),
        "{out}"
    );
    bridge.kill9().await;
    sim.stop().await;
}

#[tokio::test]
async fn retry_wait_says_when_nothing_delivers() {
    // No `serve` runs: the re-queued signup stays pending, and --wait says so with exit 1.
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    sim.state()
        .push_fault(fault(Some(1), CUSTOMER_PATH, status(503, None)));
    let config = write_config(dir.path(), &sim.base_url, "max_attempts = 1", "");
    let bridge = BridgeProcess::start(&config).await;
    let answer = http_client()
        .post(format!("{}/webhooks/signup", bridge.address))
        .bearer_auth(token_for(SOURCE, SECRET))
        .json(&signup_body("alone@example.com", "A"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422);
    let id = id_of(answer).await;
    bridge.kill9().await;
    let (code, out, stderr) = run_cli(
        &config,
        &["signups", "retry", &id, "--wait", "--timeout", "1s"],
    );
    assert_eq!(code, 1, "{out} {stderr}");
    assert!(out.contains(&format!("{id}\tpending")), "{out}");
    assert!(stderr.contains("still pending"), "{stderr}");
    sim.stop().await;
}

#[tokio::test]
async fn sign_repeats_a_delivery_as_a_senders_retry() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    let sources = format!(
        "[[sources]]\nid = \"svix\"\ntenant = \"{TENANT}\"\nverify = \"standard-webhooks\"\n\
         secret = \"{WHSEC}\"\n[sources.fields]\nemail = \"$.data.email\"\n"
    );
    let config = write_config(dir.path(), &sim.base_url, "", &sources);
    let bridge = BridgeProcess::start(&config).await;
    let body = dir.path().join("signup.json");
    std::fs::write(&body, r#"{"data":{"email":"retry@example.com"}}"#).unwrap();
    let body = body.display().to_string();
    let url = format!("{}/webhooks/signup/svix", bridge.address);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let send = |timestamp: i64, id: &'static str| {
        let (code, line, err) = run_cli(
            &config,
            &[
                "sign",
                "--source",
                "svix",
                "--body",
                &body,
                "--curl",
                &url,
                "--id",
                id,
                "--timestamp",
                &timestamp.to_string(),
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert!(line.starts_with("curl -sS -i "), "{line}");
        assert!(line.contains(&format!("webhook-id: {id}")), "{line}");
        assert!(
            line.contains(&format!("webhook-timestamp: {timestamp}")),
            "{line}"
        );
        let words: Vec<String> = line
            .trim()
            .split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        let mut request = http_client().post(&words[0]);
        for header in &words[1..words.len() - 1] {
            let (name, value) = header.split_once(": ").unwrap();
            request = request.header(name, value);
        }
        request.body(std::fs::read(&body).unwrap()).send()
    };
    let first = send(now, "msg_retry_1").await.unwrap();
    assert_eq!(first.status(), 201);
    let retry = send(now + 30, "msg_retry_1").await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let stale = send(now - 3600, "msg_retry_2").await.unwrap();
    assert_eq!(stale.status(), 401, "outside the tolerance");
    assert_eq!(jsm_requests(&sim, "POST", CUSTOMER_PATH).len(), 1);
    // A scheme without a timestamp refuses --timestamp; a JWT source gets an Idempotency-Key.
    let (code, _, err) = run_cli(
        &config,
        &[
            "sign",
            "--source",
            SOURCE,
            "--body",
            &body,
            "--timestamp",
            "1",
        ],
    );
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = run_cli(
        &config,
        &["sign", "--source", SOURCE, "--body", &body, "--id", "k-1"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("Idempotency-Key: k-1"), "{out}");
    bridge.kill9().await;
    sim.stop().await;
}

#[test]
fn check_config_shows_the_database_urls_harmless_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pg.toml");
    std::fs::write(
        &path,
        "[database]\nurl = \"postgres://bridge:pg-pass-42@db:5432/b?options[search_path]=bridge_a&sslmode=require&password=also-secret\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run_cli(&path, &["check-config"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("options[search_path]=bridge_a&sslmode=require&password=[redacted]"),
        "{stdout}"
    );
    assert!(!stdout.contains("pg-pass-42") && !stdout.contains("also-secret"));
}

#[test]
fn a_missing_postgresql_schema_is_named_with_its_fix() {
    const URL_VAR: &str = super::postgres::URL_VAR;
    let Ok(server) = std::env::var(URL_VAR) else {
        super::skip::skipped(
            concat!(
                module_path!(),
                "::a_missing_postgresql_schema_is_named_with_its_fix"
            ),
            &format!("{URL_VAR} is unset"),
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = format!("missing_{}", uuid::Uuid::new_v4().simple());
    let url = super::postgres::schema_url(&server, &schema);
    let path = dir.path().join("c.toml");
    std::fs::write(&path, format!("[database]\nurl = \"{url}\"\n")).unwrap();
    let (code, _, stderr) = run_cli(&path, &["migrate"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("CREATE SCHEMA \"{schema}\"")),
        "{stderr}"
    );
    assert!(!stderr.contains("no schema has been selected"), "{stderr}");
}
