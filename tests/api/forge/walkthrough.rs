//! docs/FORGE.md's local walkthrough with the real binaries: `serve`, then `jsm-sim
//! --forge-install-into`, then a signup that becomes a customer created through
//! `/ex/jira/{cloudId}` with the system token the simulator issued.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::*;
use crate::helpers::{binary, http_client};
use crate::process::{BridgeProcess, run_cli, write_config};

#[tokio::test]
async fn serve_and_jsm_sim_forge_install_into_end_with_a_customer() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sim_url = format!("http://127.0.0.1:{port}");
    let extra = format!(
        "\n[[sources]]\nid = \"{FORGE_SOURCE}\"\ntenant = \"{sim_url}\"\nsecret = \"{FORGE_SECRET}\"\n\
         \n[auth]\njwks_refresh_cooldown = \"1s\"\n\
         \n[forge]\napp_id = \"{APP_ID}\"\njwks_url = \"{sim_url}/_sim/forge/jwks.json\"\n"
    );
    let config = write_config(dir.path(), "http://127.0.0.1:9", "", &extra);
    let bridge = BridgeProcess::start(&config).await;
    let mut sim = tokio::process::Command::new(binary())
        .args(["jsm-sim", "--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--forge-install-into",
            &bridge.address,
            "--forge-app-id",
            APP_ID,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let installed = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("Forge app installed into") {
                return line;
            }
        }
        panic!("jsm-sim ended without installing");
    })
    .await
    .expect("jsm-sim installed in time");
    assert!(installed.ends_with("(bridge answered 200)"), "{installed}");

    let (code, listed, _) = run_cli(&config, &["installations", "list"]);
    assert_eq!(code, 0);
    assert!(
        listed.contains(&format!("\tinstalled\t{sim_url}\tforge\t")),
        "{listed}"
    );
    let client = http_client();
    let response = client
        .post(format!("{}/webhooks/signup", bridge.address))
        .bearer_auth(token_for(FORGE_SOURCE, FORGE_SECRET))
        .json(&json!({"email": "fred@example.com", "displayName": "Fred"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let requests: Vec<Value> = client
        .get(format!("{sim_url}/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let create = requests
        .iter()
        .find(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/rest/servicedeskapi/customer"))
        })
        .expect("a create");
    assert!(
        create["path"].as_str().unwrap().starts_with("/ex/jira/"),
        "{create}"
    );
    assert_eq!(create["status"], 201);
    assert!(
        create["authorization"]
            .as_str()
            .unwrap()
            .starts_with("Bearer ")
    );
    sim.kill().await.unwrap();
    bridge.terminate().await;
}
