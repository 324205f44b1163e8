//! The newcomer's walk, with the real binary: `serve --sandbox` prints the curl line, the
//! simulator, the console URL and a one-time login link; the link signs in, the console lists
//! the curled signup, a signup made to fail in the simulator is retried from its page and ends
//! `created`.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::console_helpers::{Console, set_cookie};
use crate::helpers::{binary, http_client};

/// The ready message's lines, up to the login link.
async fn ready_lines(child: &mut tokio::process::Child) -> Vec<String> {
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::time::timeout(Duration::from_secs(30), async {
        let mut seen = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            let done = line.contains("/console/login/link?token=");
            seen.push(line);
            if done {
                return seen;
            }
        }
        panic!("no login link in {seen:?}");
    })
    .await
    .unwrap()
}

fn after<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    let line = lines.iter().find(|l| l.starts_with(prefix)).unwrap();
    line[prefix.len()..].split_whitespace().next().unwrap()
}

#[tokio::test]
async fn a_newcomer_opens_the_printed_link_and_retries_a_failed_signup() {
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
    let lines = ready_lines(&mut child).await;
    let sim = after(&lines, "Embedded JSM simulator: ").to_string();
    let console_url = after(&lines, "Operator console: ").to_string();
    let link = lines.last().unwrap().trim().to_string();
    let curl = lines.iter().find(|l| l.starts_with("curl ")).unwrap();
    let base = console_url.trim_end_matches("/console/").to_string();
    let token = curl
        .split("Bearer ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    let client = http_client(); // installs the TLS provider the console client needs too
    let signup = |email: &str| {
        client
            .post(format!("{base}/webhooks/signup"))
            .bearer_auth(token)
            .json(&json!({"email": email, "displayName": "New Comer"}))
            .send()
    };
    let first: Value = signup("fred@example.com")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "created");

    let mut console = Console {
        base: base.clone(),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookie: None,
    };
    let signed_in = console.client.get(&link).send().await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    console.keep_cookie(&signed_in);
    let list = console.page("/console/signups").await;
    assert!(list.contains(first["id"].as_str().unwrap()) && list.contains("f***@example.com"));

    let fault = json!({"times": 1, "pathContains": "/rest/servicedeskapi/customer",
                       "action": {"kind": "status", "status": 400}});
    let pushed = client
        .post(format!("{sim}/_sim/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert!(pushed.status().is_success());
    let failed: Value = signup("wilma@example.com")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(failed["status"], "failed", "{failed}");
    let id = failed["id"].as_str().unwrap();
    let retried = console
        .post(&format!("/console/signups/{id}/retry"), &[])
        .await;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    let mut status = String::new();
    for _ in 0..300 {
        let page = console.page(&format!("/console/signups/{id}")).await;
        status = page
            .split("id=\"signup-status\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_string();
        if status == "created" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "created");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_sandbox_turns_the_console_on_and_its_link_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = signup_bridge::config::Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = format!("sqlite://{}", dir.path().join("s.db").display());
    let options = signup_bridge::startup::ServeOptions {
        sandbox: true,
        handle_signals: false,
    };
    let app = signup_bridge::startup::Application::build(config, options)
        .await
        .unwrap();
    let link = app
        .sandbox_console_link()
        .expect("a login link")
        .to_string();
    assert!(link.starts_with(&format!("{}/console/login/link?token=", app.base_url())));
    let handle = app.handle();
    let task = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = client.get(&link).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert!(set_cookie(&first).is_some());
    let again = client.get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    handle.stop(true).await;
    task.await.unwrap().unwrap();
}
