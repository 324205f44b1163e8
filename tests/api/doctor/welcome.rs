//! doctor checks the welcome request's desk and request type (SPEC §20), naming the key to fix.

use serde_json::json;

use super::{config, doctor_json, finding, sim_set};
use crate::helpers::*;

#[tokio::test]
async fn a_missing_welcome_request_type_fails_naming_the_key() {
    let sim = start_sim(sim_config()).await;
    sim_set(&sim, json!({"serviceDesks": ["1"], "requestTypes": ["5"]})).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &sim,
        "welcome_request = { service_desk_id = 1, request_type_id = 6, summary = \"Hi\" }",
        "welcome_request = { service_desk_id = 1, request_type_id = 5, summary = \"Hi\" }",
    );
    let (code, lines) = doctor_json(&path, &[]).await;
    assert_eq!(code, 1);
    assert_eq!(finding(&lines, TENANT, "service_desk:1")["status"], "ok");
    let ok = finding(&lines, TENANT, "request_type:1:5");
    assert_eq!(ok["status"], "ok", "{ok}");
    assert!(
        ok["detail"]
            .as_str()
            .unwrap()
            .contains("request type 5 of service desk 1"),
        "{ok}"
    );
    let missing = finding(&lines, TENANT, "request_type:1:6");
    assert_eq!(missing["status"], "fail", "{missing}");
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{missing}"
    );
    let fix = missing["fix"].as_str().unwrap();
    assert!(
        fix.contains("tenants[0].welcome_request.request_type_id"),
        "{fix}"
    );
    let gets: Vec<String> = sim
        .state()
        .requests()
        .iter()
        .filter(|r| r.path.contains("/requesttype/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        gets,
        [
            "GET /rest/servicedeskapi/servicedesk/1/requesttype/6",
            "GET /rest/servicedeskapi/servicedesk/1/requesttype/5"
        ]
    );
}
