//! `signup-bridge doctor`, the real binary against the simulator: a healthy tenant passes every
//! check; each check fails (or warns) with that failure switched on in the simulator; doctor
//! never writes to JSM and never creates a database.

mod apps;
mod failures;
mod oauth;
mod sandbox;
mod welcome;

use std::path::{Path, PathBuf};

use serde_json::Value;
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
pub fn config(dir: &Path, sim: &SimServer, tenant: &str, source: &str) -> PathBuf {
    let path = write_config(dir, &sim.base_url, "", tenant);
    let text = std::fs::read_to_string(&path).unwrap() + source + "\n";
    std::fs::write(&path, text).unwrap();
    path
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

#[tokio::test]
async fn nothing_configured_is_nothing_to_check_and_creates_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bridge.db");
    let path = dir.path().join("empty.toml");
    std::fs::write(
        &path,
        format!("[database]\nurl = \"sqlite://{}\"\n", db.display()),
    )
    .unwrap();
    let (code, stdout, stderr) = doctor(&path, &["--json"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "JSON lines stay JSON: {stdout}");
    assert!(stderr.contains("nothing to check"), "{stderr}");
    assert!(!db.exists());
}
