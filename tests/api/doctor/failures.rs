//! Each check FAILs (or warns) with its failure switched on in the simulator, naming the
//! finding and the fix.

use serde_json::{Value, json};

use super::{config, doctor, doctor_json, finding, sim_set};
use crate::helpers::*;
use crate::process::write_config;

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
async fn refused_connections_tls_failures_and_dns_are_named_plainly() {
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
        // RFC 6761: resolvers answer `.invalid` names with an immediate negative response.
        (
            "https://doctor-test.invalid".to_string(),
            "DNS: the host name doctor-test.invalid does not resolve",
            "DNS resolver",
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
async fn a_429_is_a_warning_on_the_call_it_hit_and_on_the_rate_limit() {
    let sim = start_sim(sim_config()).await;
    sim.state().push_fault(fault(
        Some(1),
        "/rest/api/3/mypermissions",
        status(429, Some(7)),
    ));
    let dir = tempfile::tempdir().unwrap();
    let (code, lines) = doctor_json(&config(dir.path(), &sim, "", ""), &[]).await;
    assert_eq!(code, 0, "warnings only: {lines:#?}");
    let admin = finding(&lines, TENANT, "permission:ADMINISTER");
    assert_eq!(admin["status"], "warn");
    assert!(admin["detail"].as_str().unwrap().contains("429"), "{admin}");
    let rate = finding(&lines, TENANT, "rate_limit");
    assert_eq!(rate["status"], "warn");
    assert!(
        rate["detail"].as_str().unwrap().contains("Retry-After 7"),
        "{rate}"
    );
}

#[tokio::test]
async fn a_later_call_without_an_answer_fails_the_checks_it_served() {
    let sim = start_sim(sim_config()).await;
    let drop = signup_bridge::sim::FaultAction::Drop {
        process_first: false,
    };
    sim.state()
        .push_fault(fault(Some(1), "/rest/api/3/mypermissions", drop));
    let dir = tempfile::tempdir().unwrap();
    let (code, lines) = doctor_json(&config(dir.path(), &sim, "", ""), &[]).await;
    assert_eq!(code, 1);
    assert_eq!(finding(&lines, TENANT, "reachable")["status"], "ok");
    for check in ["permission:ADMINISTER", "permission:USER_PICKER"] {
        let f = finding(&lines, TENANT, check);
        assert_eq!(f["status"], "fail", "{f}");
        assert!(
            f["detail"]
                .as_str()
                .unwrap()
                .contains("after earlier ones succeeded")
        );
    }
}
