//! `signup-bridge doctor`, the real binary against the simulator: a healthy tenant passes every
//! check; each check fails (or warns) with that failure switched on in the simulator; doctor
//! never writes to JSM and never creates a database.

mod apps;
mod oauth;
mod sandbox;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use signup_bridge::sim::SimServer;

use super::helpers::*;
use super::process::{write_config, write_config_on};

/// Run `doctor` with `args` against `config` off the test's runtime (the simulator answers on
/// its own threads meanwhile); (exit code, stdout, stderr).
pub async fn doctor(config: &Path, args: &[&str]) -> (i32, String, String) {
    let config = config.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut all = vec!["doctor"];
        all.extend(args.iter().map(String::as_str));
        super::process::run_cli(&config, &all)
    })
    .await
    .unwrap()
}

/// `doctor --json`: the findings, one object per line.
pub async fn doctor_json(config: &Path, args: &[&str]) -> (i32, Vec<Value>) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = doctor(config, &all).await;
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?} ({stderr})")))
        .collect();
    (code, lines)
}

/// The finding of `check` for `tenant`.
pub fn finding<'a>(lines: &'a [Value], tenant: &str, check: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["tenant"] == tenant && l["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding for {tenant} in {lines:#?}"))
}

/// Change the simulator's behaviour through its control API.
pub async fn sim_set(sim: &SimServer, config: Value) {
    let status = http_client()
        .post(format!("{}/_sim/config", sim.control_url))
        .json(&config)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{config}: {status}");
}

/// A config whose tenant `acme` is at the simulator; the database in `dir` (never created by
/// doctor). `tenant` adds lines to the tenant, `source` to the source.
fn config(dir: &Path, sim: &SimServer, tenant: &str, source: &str) -> PathBuf {
    let path = write_config(dir, &sim.base_url, "", tenant);
    let text = std::fs::read_to_string(&path).unwrap() + source + "\n";
    std::fs::write(&path, text).unwrap();
    path
}

fn statuses(lines: &[Value]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|l| {
            (
                l["check"].as_str().unwrap().to_string(),
                l["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_healthy_tenant_passes_every_check_and_nothing_is_written() {
    let sim = start_sim(sim_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &sim,
        "service_desk_ids = [1]\norganization_ids = [2]",
        "",
    );
    let (code, stdout, stderr) = doctor(&path, &[]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let checks: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  ") && !l.trim_start().starts_with("fix:"))
        .collect();
    for want in [
        "base_url",
        "reachable",
        "credentials",
        "clock",
        "permission:ADMINISTER",
        "permission:USER_PICKER",
        "service_desk:1",
        "organization:2",
        "rate_limit",
    ] {
        assert!(
            checks
                .iter()
                .any(|l| l.split_whitespace().nth(1) == Some(want)),
            "{want} missing:\n{stdout}"
        );
    }
    assert!(
        checks.iter().all(|l| l.trim_start().starts_with("ok ")),
        "only ok lines:\n{stdout}"
    );
    assert!(!stdout.contains(JSM_TOKEN) && !stderr.contains(JSM_TOKEN));

    // Read-only: GETs only, each in English, no customer, no database file.
    let requests = sim.state().requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/rest/api/3/myself",
            "/rest/api/3/mypermissions",
            "/rest/servicedeskapi/servicedesk/1",
            "/rest/servicedeskapi/organization/2"
        ]
    );
    for r in &requests {
        assert_eq!(r.method, "GET", "{r:?}");
        assert!(r.query.contains("requestLanguage=en-US"), "{r:?}");
    }
    assert!(sim.state().customers().is_empty());
    assert!(
        !dir.path().join("bridge.db").exists(),
        "doctor created a database"
    );
}

#[tokio::test]
async fn json_lines_carry_tenant_check_status_detail_and_fix() {
    let sim = start_sim(sim_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &sim, "", "");
    let (code, lines) = doctor_json(&path, &[]).await;
    assert_eq!(code, 0);
    assert!(lines.len() >= 7);
    for line in &lines {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 5, "{line}");
        for key in ["tenant", "check", "status", "detail", "fix"] {
            assert!(line.get(key).is_some(), "{key} missing in {line}");
        }
        assert_eq!(line["tenant"], TENANT);
        assert_eq!(line["status"], "ok");
        assert!(line["fix"].is_null());
    }
}

#[tokio::test]
async fn bad_credentials_fail_with_the_fix_for_the_auth_type() {
    let sim = start_sim(sim_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &sim, "", "");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(JSM_TOKEN, "a-revoked-api-token")).unwrap();
    let (code, stdout, _) = doctor(&path, &[]).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(!stdout.contains("a-revoked-api-token"));
    let (code, lines) = doctor_json(&path, &[]).await;
    assert_eq!(code, 1);
    let credentials = finding(&lines, TENANT, "credentials");
    assert_eq!(credentials["status"], "fail");
    assert!(credentials["detail"].as_str().unwrap().contains("401"));
    assert!(
        credentials["fix"]
            .as_str()
            .unwrap()
            .contains("tenants[0].auth.api_token")
    );
    assert_eq!(finding(&lines, TENANT, "reachable")["status"], "ok");
    // Nothing after refused credentials: the permission checks would only repeat the 401.
    assert!(lines.iter().all(|l| l["check"] != "permission:ADMINISTER"));
}

#[tokio::test]
async fn a_missing_administer_permission_fails() {
    let sim = start_sim(sim_config()).await;
    let perms = json!({"administer": false, "userPicker": true, "deskAdmin": true});
    sim_set(&sim, json!({"permissions": {JSM_EMAIL: perms}})).await;
    let dir = tempfile::tempdir().unwrap();
    let (code, lines) = doctor_json(&config(dir.path(), &sim, "", ""), &[]).await;
    assert_eq!(code, 1);
    let admin = finding(&lines, TENANT, "permission:ADMINISTER");
    assert_eq!(admin["status"], "fail");
    assert!(admin["fix"].as_str().unwrap().contains("Administer Jira"));
    assert_eq!(
        finding(&lines, TENANT, "permission:USER_PICKER")["status"],
        "ok"
    );
}

#[tokio::test]
async fn a_missing_user_picker_warns_and_fails_when_customers_join_desks() {
    let sim = start_sim(sim_config()).await;
    let perms = json!({"administer": true, "userPicker": false, "deskAdmin": true});
    sim_set(&sim, json!({"permissions": {"*": perms}})).await;
    let dir = tempfile::tempdir().unwrap();
    let (code, lines) = doctor_json(&config(dir.path(), &sim, "", ""), &[]).await;
    assert_eq!(code, 0, "a warning only: {lines:#?}");
    let picker = finding(&lines, TENANT, "permission:USER_PICKER");
    assert_eq!(picker["status"], "warn");
    assert!(
        picker["detail"]
            .as_str()
            .unwrap()
            .contains("account_unreadable")
    );

    let with_desk = config(dir.path(), &sim, "service_desk_ids = [1]", "");
    let (code, lines) = doctor_json(&with_desk, &[]).await;
    assert_eq!(code, 1);
    assert_eq!(
        finding(&lines, TENANT, "permission:USER_PICKER")["status"],
        "fail"
    );
}

#[tokio::test]
async fn unknown_desks_and_organizations_fail_naming_the_key() {
    let sim = start_sim(sim_config()).await;
    sim_set(&sim, json!({"serviceDesks": ["1"], "organizations": ["2"]})).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &sim,
        "service_desk_ids = [1, 99]\norganization_ids = [2, \"98\"]",
        "service_desk_ids = [97]",
    );
    let (code, lines) = doctor_json(&path, &[]).await;
    assert_eq!(code, 1);
    assert_eq!(finding(&lines, TENANT, "service_desk:1")["status"], "ok");
    assert_eq!(finding(&lines, TENANT, "organization:2")["status"], "ok");
    let cases = [
        ("service_desk:99", "tenants[0].service_desk_ids"),
        ("organization:98", "tenants[0].organization_ids"),
        ("service_desk:97", "sources[0].service_desk_ids"),
    ];
    for (check, key) in cases {
        let f = finding(&lines, TENANT, check);
        assert_eq!(f["status"], "fail", "{f}");
        assert!(
            f["detail"].as_str().unwrap().contains("does not exist"),
            "{f}"
        );
        assert!(f["fix"].as_str().unwrap().contains(key), "{f}");
    }
}

#[tokio::test]
async fn clock_skew_warns_and_exits_0() {
    let sim = start_sim(sim_config()).await;
    sim_set(&sim, json!({"clockSkewSecs": 120})).await;
    let dir = tempfile::tempdir().unwrap();
    let (code, lines) = doctor_json(&config(dir.path(), &sim, "", ""), &[]).await;
    assert_eq!(code, 0);
    let clock = finding(&lines, TENANT, "clock");
    assert_eq!(clock["status"], "warn", "{clock}");
    assert!(
        clock["detail"].as_str().unwrap().contains("behind"),
        "{clock}"
    );
    let others = statuses(&lines);
    assert!(
        others
            .iter()
            .filter(|(c, _)| c != "clock")
            .all(|(_, s)| s == "ok"),
        "{others:?}"
    );
}

#[tokio::test]
async fn a_nearly_spent_rate_limit_warns() {
    let sim = start_sim(sim_config()).await;
    let limit = json!({"perSecond": 0.001, "burst": 10, "retryAfterSecs": 60});
    sim_set(&sim, json!({"rateLimit": limit})).await;
    // Other traffic on the same credentials has spent most of the window.
    let client = http_client();
    for _ in 0..8 {
        client
            .get(format!("{}/rest/api/3/myself", sim.base_url))
            .basic_auth(JSM_EMAIL, Some(JSM_TOKEN))
            .send()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, lines) = doctor_json(&config(dir.path(), &sim, "", ""), &[]).await;
    assert_eq!(code, 0, "{lines:#?}");
    let rate = finding(&lines, TENANT, "rate_limit");
    assert_eq!(rate["status"], "warn", "{rate}");
    // 10 - 8 - 2 calls of doctor: nothing left, and JSM says so.
    let detail = rate["detail"].as_str().unwrap();
    assert!(detail.contains("near the rate limit: 0 of 10"), "{rate}");
    assert!(detail.contains("X-RateLimit-NearLimit: true"), "{rate}");
}

#[tokio::test]
async fn an_unreachable_host_and_a_tls_failure_are_named_plainly() {
    let sim = start_sim(sim_config()).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            format!("http://127.0.0.1:{closed}"),
            "connection refused",
            "port",
        ),
        // https to a plain-http port: the TLS handshake fails.
        (
            sim.base_url.replace("http://", "https://"),
            "TLS handshake",
            "certificate",
        ),
    ];
    for (base_url, named, fix) in cases {
        let path = write_config(dir.path(), &base_url, "", "");
        let (code, lines) = doctor_json(&path, &[]).await;
        assert_eq!(code, 1);
        let reachable = finding(&lines, TENANT, "reachable");
        assert_eq!(reachable["status"], "fail");
        assert!(
            reachable["detail"].as_str().unwrap().contains(named),
            "{reachable}"
        );
        assert!(
            reachable["fix"].as_str().unwrap().contains(fix),
            "{reachable}"
        );
        assert!(lines.iter().all(|l| l["check"] != "credentials"));
    }
}

#[tokio::test]
async fn an_oauth_tenant_at_a_site_url_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("bridge.db").display());
    let path = write_config_on(dir.path(), &db, "", "https://acme.atlassian.net", "", "");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        &format!("{{ type = \"basic\", email = \"{JSM_EMAIL}\", api_token = \"{JSM_TOKEN}\" }}"),
        "{ type = \"oauth_client_credentials\", client_id = \"c\", client_secret = \"s\", \
         token_url = \"https://auth.atlassian.com/oauth/token\" }",
    );
    std::fs::write(&path, text).unwrap();
    let (code, stdout, stderr) = doctor(&path, &[]).await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("tenants[0].base_url"), "{stderr}");
    assert!(stderr.contains("/ex/jira/"), "{stderr}");
}

#[tokio::test]
async fn tenant_selects_one_and_an_unknown_one_exits_2() {
    let sim = start_sim(sim_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let second = format!(
        "\n[[tenants]]\nid = \"other\"\nbase_url = \"{}\"\nauth = {{ type = \"bearer\", token = \"no-such-token\" }}\n",
        sim.base_url
    );
    let path = config(dir.path(), &sim, "", &second);
    let (code, lines) = doctor_json(&path, &[]).await;
    assert_eq!(code, 1, "other's token is refused");
    assert!(lines.iter().any(|l| l["tenant"] == "other"));
    let (code, lines) = doctor_json(&path, &["--tenant", TENANT]).await;
    assert_eq!(code, 0);
    assert!(lines.iter().all(|l| l["tenant"] == TENANT));
    let (code, stdout, stderr) = doctor(&path, &["--tenant", "nobody"]).await;
    assert_eq!(code, 2);
    assert!(stdout.is_empty() && stderr.contains("nobody"), "{stderr}");
}
