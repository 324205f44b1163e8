//! An OAuth client-credentials tenant through the API gateway: doctor fetches a token as
//! delivery does and calls under `/ex/jira/{cloudId}`; refused client credentials FAIL with the
//! fix for that auth type, the secret never printed.

use signup_bridge::sim::SimConfig;

use super::{doctor, doctor_json, finding};
use crate::helpers::{jsm_requests, sim_config, start_sim};

const CLIENT_ID: &str = "doctor-oauth-client";
const CLIENT_SECRET: &str = "doctor-oauth-secret-5e1d0b7a";

fn config(dir: &std::path::Path, control: &str, cloud: &str, secret: &str) -> std::path::PathBuf {
    let path = dir.join("oauth.toml");
    let db = dir.join("bridge.db");
    let text = format!(
        r#"
[database]
url = "sqlite://{db}"

[[tenants]]
id = "gw"
base_url = "{control}/ex/jira/{cloud}"
api_gateway_url = "{control}"
auth = {{ type = "oauth_client_credentials", client_id = "{CLIENT_ID}", client_secret = "{secret}", token_url = "{control}/_sim/oauth/token" }}
"#,
        db = db.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn an_oauth_tenant_is_checked_through_the_gateway_and_refused_secrets_fail() {
    let sim = start_sim(SimConfig {
        oauth_clients: vec![(CLIENT_ID.into(), CLIENT_SECRET.into())],
        ..sim_config()
    })
    .await;
    let cloud = sim.state().cloud_id();
    let dir = tempfile::tempdir().unwrap();
    let good = config(dir.path(), &sim.control_url, &cloud, CLIENT_SECRET);
    let (code, lines) = doctor_json(&good, &[]).await;
    assert_eq!(code, 0, "{lines:#?}");
    assert!(lines.iter().all(|l| l["status"] == "ok"), "{lines:#?}");
    let fit = finding(&lines, "gw", "base_url");
    assert!(
        fit["detail"]
            .as_str()
            .unwrap()
            .contains("through the API gateway")
    );
    let calls = jsm_requests(&sim, "GET", "/rest/api/3/myself");
    assert_eq!(calls.len(), 1);
    assert!(calls[0].path.starts_with(&format!("/ex/jira/{cloud}/")));
    assert!(
        calls[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Bearer ")
    );

    let wrong = config(
        dir.path(),
        &sim.control_url,
        &cloud,
        "not-the-client-secret",
    );
    let (code, stdout, stderr) = doctor(&wrong, &[]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(!stdout.contains("not-the-client-secret") && !stderr.contains("not-the-client-secret"));
    let (_, lines) = doctor_json(&wrong, &[]).await;
    let credentials = finding(&lines, "gw", "credentials");
    assert_eq!(credentials["status"], "fail");
    assert!(
        credentials["fix"]
            .as_str()
            .unwrap()
            .contains("client_secret"),
        "{credentials}"
    );
    assert_eq!(
        jsm_requests(&sim, "GET", "/rest/api/3/myself").len(),
        1,
        "no call without a token"
    );
}
