//! The command line, run as the real binary: check-config, token, signups, serve --sandbox.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::helpers::*;
use super::process::{BridgeProcess, run_cli, write_config};

#[test]
fn check_config_redacts_every_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        r#"
[[tenants]]
id = "acme"
base_url = "https://acme.atlassian.net"
auth = { type = "basic", email = "bot@acme.com", api_token = "${TEST_API_TOKEN}" }
service_desk_ids = [10, "HELP"]

[[sources]]
id = "website"
tenant = "acme"
secrets = ["first-secret-value-0123456789abcdef", "second-secret-value-0123456789abcdef"]
"#,
    )
    .unwrap();
    let output = std::process::Command::new(binary())
        .args(["check-config", "--config"])
        .arg(&path)
        .env("TEST_API_TOKEN", "api-token-from-env")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for secret in [
        "api-token-from-env",
        "first-secret-value",
        "second-secret-value",
    ] {
        assert!(!stdout.contains(secret), "{secret} leaked");
    }
    assert!(stdout.contains("[redacted]"));
    let parsed: toml::Table = stdout.parse().expect("the effective config is TOML");
    assert_eq!(parsed["delivery"]["max_attempts"].as_integer(), Some(20));
}

#[test]
fn config_errors_exit_2_naming_the_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[server]\nlisen = \"127.0.0.1:1\"\n", "server.lisen"),
        (
            "[delivery]\ninline_wait = \"soon\"\n",
            "delivery.inline_wait",
        ),
        (
            "[[sources]]\nid = \"s\"\ntenant = \"t\"\nsecret = \"${NOT_SET_ANYWHERE_42}\"\n",
            "NOT_SET_ANYWHERE_42",
        ),
        (
            "[[tenants]]\nid = \"t\"\nbase_url = \"http://example.com\"\nauth = { type = \"bearer\", token = \"x\" }\n",
            "tenants[0].base_url",
        ),
        (
            "[[sources]]\nid = \"s\"\ntenant = \"t\"\njwks_url = \"https://idp.example.com/k\"\n",
            "sources[0].audience",
        ),
        (
            "[[sources]]\nid = \"s\"\ntenant = \"t\"\nsecret = \"only-31-bytes-long-0123456789ab\"\n",
            "sources[0].secret",
        ),
        (
            "[delivery]\nmax_rate_per_tenant = 0.0001\n",
            "delivery.max_rate_per_tenant",
        ),
    ];
    for (text, needle) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let (code, stdout, stderr) = run_cli(&path, &["check-config"]);
        assert_eq!(code, 2, "{text}");
        assert!(stdout.is_empty());
        assert!(stderr.contains(needle), "{needle} not in {stderr}");
        assert!(stderr.contains("bad.toml"), "{stderr}");
    }
}

#[test]
fn token_prints_one_jwt_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9", "", "");
    let (code, stdout, _) = run_cli(
        &config,
        &["token", "--source", SOURCE, "--ttl", "5m", "--jti", "abc"],
    );
    assert_eq!(code, 0);
    assert_eq!(stdout.lines().count(), 1);
    let token = stdout.trim();
    assert_eq!(token.split('.').count(), 3);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["iss"], SOURCE);
    assert_eq!(claims["jti"], "abc");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    let (code, stdout, stderr) = run_cli(&config, &["token", "--source", "nobody"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty() && stderr.contains("nobody"));
}

#[tokio::test]
async fn signups_commands_work_while_serve_runs() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    sim.state()
        .push_fault(fault(None, CUSTOMER_PATH, status(503, None)));
    let config = write_config(dir.path(), &sim.base_url, "max_attempts = 1", "");
    let bridge = BridgeProcess::start(&config).await;
    let client = http_client();
    let answer = client
        .post(format!("{}/webhooks/signup", bridge.address))
        .bearer_auth(token_for(SOURCE, SECRET))
        .json(&signup_body("operator@example.com", "Op"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422);
    let id = id_of(answer).await;

    let (code, stdout, _) = run_cli(
        &config,
        &["signups", "list", "--status", "failed", "--json"],
    );
    assert_eq!(code, 0);
    let line: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(line["id"], id.as_str());
    assert_eq!(line["status"], "failed");
    assert_eq!(line["email"], "o***@example.com");
    assert_eq!(line["attempts"], 1);
    let (_, text, _) = run_cli(&config, &["signups", "list"]);
    assert!(text.contains(&id) && !text.contains("operator@"), "{text}");
    let (code, shown, _) = run_cli(&config, &["signups", "show", &id]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&shown).unwrap()["status"],
        "failed"
    );

    sim.state().clear_faults();
    let (code, stdout, _) = run_cli(&config, &["signups", "retry", "--failed"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("re-queued 1"), "{stdout}");
    let token = token_for(SOURCE, SECRET);
    let status = poll_signup(
        &client,
        &bridge.address,
        &id,
        &token,
        // The worker polls every 500 ms (SPEC: picked up within 2 s); the bound is generous
        // so a loaded machine cannot fail it: without the polling it would never be created.
        Duration::from_secs(20),
    )
    .await["status"]
        .clone();
    assert_eq!(status, "created", "picked up by the running service");
    let (code, _, stderr) = run_cli(&config, &["signups", "retry", &id]);
    assert_eq!(code, 2, "a delivered signup has nothing to retry: {stderr}");
    bridge.kill9().await;
}

#[tokio::test]
async fn serve_sandbox_prints_a_curl_line_that_works_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(binary())
        .args(["serve", "--sandbox", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("SIGNUP_BRIDGE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let curl = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("curl ") {
                return line;
            }
        }
        panic!("no curl line");
    })
    .await
    .unwrap();
    // The ready message names the embedded simulator's address, for its control API.
    let sim_url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("simulator listens on ").nth(1) {
                return rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
        }
        panic!("no simulator address");
    })
    .await
    .unwrap();
    let url = curl
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let token = curl
        .split("Bearer ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    let body = curl
        .split("-d '")
        .nth(1)
        .unwrap()
        .trim_end_matches('\'')
        .to_string();
    let client = http_client();
    let send = || {
        client
            .post(&url)
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["customer"]["emailAddress"], "fred@example.com");
    let second = send().await.unwrap();
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.json::<Value>().await.unwrap(), first);

    // Another shell mints a token for the same sandbox source from the database.
    let output = std::process::Command::new(binary())
        .args(["token", "--source", "sandbox"])
        .current_dir(dir.path())
        .env_remove("SIGNUP_BRIDGE_CONFIG")
        .output()
        .unwrap();
    assert!(output.status.success());
    let minted = String::from_utf8(output.stdout).unwrap();
    let replay = client
        .post(&url)
        .bearer_auth(minted.trim())
        .header("Content-Type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 201);
    let customers: Value = client
        .get(format!("{sim_url}/_sim/customers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(customers[0]["emailAddress"], "fred@example.com");
    let _ = child.start_kill();
}

#[test]
fn a_sandbox_name_clash_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clash.toml");
    std::fs::write(
        &path,
        "[[tenants]]\nid = \"sandbox\"\nbase_url = \"https://a.atlassian.net\"\nauth = { type = \"basic\", email = \"bot@a.com\", api_token = \"t\" }\n",
    )
    .unwrap();
    let output = std::process::Command::new(binary())
        .args(["serve", "--sandbox", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("sandbox"));
}
