//! Connect and Forge installations: stored credentials first, then the same checks made with
//! the credentials delivery uses (a Connect JWT with qsh, the Forge system token).

use super::{doctor_json, finding};
use crate::connect::{CLIENT_KEY, lifecycle, spawn_connect_app};
use crate::forge::{CLOUD, OTHER_CLOUD, forge_call, spawn_forge_app};
use crate::helpers::{TestApp, jsm_requests};
use crate::process::write_config_on;

/// A doctor config on the app's own database.
fn config_of(app: &TestApp) -> std::path::PathBuf {
    let db = &app.config.database.url;
    write_config_on(app.dir.path(), db, "", &app.sim.base_url, "", "")
}

#[tokio::test]
async fn a_connect_installation_is_checked_with_its_jwt_and_a_disabled_one_fails() {
    let app = spawn_connect_app("/jira", |_| CLIENT_KEY.into(), |_| {}).await;
    let report = lifecycle(&app, "installed", CLIENT_KEY, Some("secret-one-0123456789")).await;
    assert_eq!(report.status, 204);
    let path = config_of(&app);
    let before = jsm_requests(&app.sim, "GET", "/rest/api/3/myself").len();
    let (code, lines) = doctor_json(&path, &["--tenant", CLIENT_KEY]).await;
    assert_eq!(code, 0, "{lines:#?}");
    let (_, text, _) = super::doctor(&path, &["--tenant", CLIENT_KEY]).await;
    assert!(text.contains("sharedSecret stored") && !text.contains("secret-one-0123456789"));
    assert!(!text.contains("JWT "), "no token printed");
    assert!(lines.iter().all(|l| l["status"] == "ok"), "{lines:#?}");
    let stored = finding(&lines, CLIENT_KEY, "credentials_stored");
    assert!(
        stored["detail"]
            .as_str()
            .unwrap()
            .contains("sharedSecret stored")
    );
    let credentials = finding(&lines, CLIENT_KEY, "credentials");
    assert!(
        credentials["detail"]
            .as_str()
            .unwrap()
            .contains("Connect app accepted")
    );
    // Signed like delivery signs: a JWT whose qsh the simulator verified, in English.
    let calls = jsm_requests(&app.sim, "GET", "/rest/api/3/myself");
    let call = calls.last().unwrap();
    assert_eq!(calls.len(), before + 2, "one per doctor run");
    assert!(call.authorization.as_deref().unwrap().starts_with("JWT "));
    assert!(call.query.contains("requestLanguage=en-US"));
    assert_eq!(call.status, Some(200));

    lifecycle(&app, "disabled", CLIENT_KEY, None).await;
    let (code, lines) = doctor_json(&path, &["--tenant", CLIENT_KEY]).await;
    assert_eq!(code, 1);
    let stored = finding(&lines, CLIENT_KEY, "credentials_stored");
    assert_eq!(stored["status"], "fail");
    assert!(stored["fix"].as_str().unwrap().contains("enable the app"));
    assert!(
        lines.iter().all(|l| l["check"] != "credentials"),
        "no call made"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_forge_installation_needs_an_unexpired_system_token() {
    let app = spawn_forge_app(|_| {}).await;
    let good = forge_call(&app, CLOUD, "lifecycle", |_| {}).await;
    let expiring = forge_call(&app, OTHER_CLOUD, "lifecycle", |t| {
        t.token_ttl_secs = Some(30);
    })
    .await;
    let expired = forge_call(&app, "cloud-0003", "lifecycle", |t| {
        t.token_ttl_secs = Some(0);
    })
    .await;
    let path = config_of(&app);

    let (code, lines) = doctor_json(&path, &["--tenant", &good.installation_id]).await;
    assert_eq!(code, 0, "{lines:#?}");
    let (_, text, _) = super::doctor(&path, &["--tenant", &good.installation_id]).await;
    assert!(
        text.contains("valid until") && !text.contains("Bearer"),
        "no token printed"
    );
    assert!(lines.iter().all(|l| l["status"] == "ok"), "{lines:#?}");
    let id = good.installation_id.as_str();
    assert!(
        finding(&lines, id, "credentials_stored")["detail"]
            .as_str()
            .unwrap()
            .contains("valid until")
    );
    let myself: Vec<_> = jsm_requests(&app.sim, "GET", "/rest/api/3/myself")
        .into_iter()
        .filter(|r| r.path.starts_with(&format!("/ex/jira/{CLOUD}/")))
        .collect();
    assert_eq!(
        myself.len(),
        2,
        "one per doctor run, through the apiBaseUrl"
    );
    assert!(
        myself[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Bearer ")
    );

    let (code, lines) = doctor_json(&path, &["--tenant", &expiring.installation_id]).await;
    assert_eq!(code, 1);
    let stored = finding(&lines, &expiring.installation_id, "credentials_stored");
    assert_eq!(stored["status"], "fail");
    assert!(
        stored["detail"].as_str().unwrap().contains("expires"),
        "{stored}"
    );
    assert!(
        stored["fix"]
            .as_str()
            .unwrap()
            .contains("scheduled trigger")
    );
    assert!(
        lines.iter().all(|l| l["check"] != "reachable"),
        "no call with it"
    );

    let (code, lines) = doctor_json(&path, &["--tenant", &expired.installation_id]).await;
    assert_eq!(code, 1);
    let stored = finding(&lines, &expired.installation_id, "credentials_stored");
    assert_eq!(stored["status"], "fail");
    assert!(
        stored["detail"].as_str().unwrap().contains("expired at"),
        "{stored}"
    );
    app.stop().await;
}

crate::backends::also_on_postgres!(
    a_connect_installation_is_checked_with_its_jwt_and_a_disabled_one_fails,
    a_forge_installation_needs_an_unexpired_system_token
);

#[tokio::test]
async fn a_source_naming_no_installation_yet_warns_until_the_install() {
    let app = spawn_connect_app("", |_| CLIENT_KEY.into(), |_| {}).await;
    let path = config_of(&app);
    let shop = format!(
        "\n[[sources]]\nid = \"shop\"\ntenant = \"{}\"\nsecret = \"shop-secret-0123456789abcdef0123\"\n",
        app.sim.base_url
    );
    let text = std::fs::read_to_string(&path).unwrap() + &shop;
    std::fs::write(&path, text).unwrap();

    let (code, lines) = doctor_json(&path, &[]).await;
    assert_eq!(code, 0, "a warning: {lines:#?}");
    let waiting = finding(&lines, &app.sim.base_url, "installation");
    assert_eq!(waiting["status"], "warn");
    assert!(
        waiting["detail"].as_str().unwrap().contains("503"),
        "{waiting}"
    );
    assert!(
        waiting["fix"]
            .as_str()
            .unwrap()
            .contains("sources[1].tenant")
    );

    lifecycle(&app, "installed", CLIENT_KEY, Some("secret-two-0123456789")).await;
    let (code, lines) = doctor_json(&path, &[]).await;
    assert_eq!(code, 0, "{lines:#?}");
    assert!(
        lines.iter().all(|l| l["check"] != "installation"),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l["tenant"] == CLIENT_KEY));
    app.stop().await;
}
