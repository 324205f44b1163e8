//! What senders, operators and logs may see: `existing` customers cut to what the sender knows,
//! `lastError` as a category, 503s without installation state, URLs and emails redacted.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use signup_bridge::sim::FaultAction;

mod limits;

use super::helpers::*;
use super::process::{run_cli, write_config};

fn keys(customer: &Value) -> BTreeSet<String> {
    customer
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_existing_customer_shows_only_what_the_sender_knows() {
    let app = spawn_app().await;
    let first = app
        .post_json(&signup_body("Fred@Example.com", "Fred"))
        .await;
    assert_eq!(first.status(), 201);
    let created: Value = first.json().await.unwrap();
    // A created customer keeps what JSM answered for it.
    assert!(created["customer"]["timeZone"].is_string(), "{created}");

    // Another sender's view of the same person: JSM's search returns the full profile.
    let again = app
        .post_json(&signup_body("fred@example.com", "Freddy"))
        .await;
    assert_eq!(again.status(), 200);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["status"], "existing");
    assert_eq!(
        keys(&body["customer"]),
        BTreeSet::from(["accountId".to_string(), "emailAddress".to_string()]),
        "{body}"
    );
    assert_eq!(
        body["customer"]["accountId"],
        created["customer"]["accountId"]
    );

    let same_name = app
        .post_json(&signup_body("other.fred@example.org", "Fred"))
        .await;
    assert_eq!(same_name.status(), 201);
    // Same person, same name, a new idempotency key: a new signup that resolves to `existing`.
    let exact = app
        .post(
            &signup_body("FRED@example.com", "Fred").to_string(),
            "application/json",
            &[("Idempotency-Key", "exact-match-1")],
        )
        .await;
    let body: Value = exact.json().await.unwrap();
    assert_eq!(body["status"], "existing", "{body}");
    assert_eq!(
        keys(&body["customer"]),
        BTreeSet::from(["accountId", "emailAddress", "displayName"].map(String::from)),
        "{body}"
    );
    let id = body["id"].as_str().unwrap();
    let shown: Value = app.get_signup(id, &app.token()).await.json().await.unwrap();
    assert_eq!(shown["customer"], body["customer"]);
    app.stop().await;
}

#[tokio::test]
async fn last_error_is_a_category_and_the_detail_is_for_operators() {
    let app = spawn_app_with(sim_config(), |c| c.delivery.max_attempts = 1).await;
    app.sim
        .state()
        .push_fault(fault(None, CUSTOMER_PATH, status(400, None)));
    let response = app.post_json(&signup_body("bad@example.com", "Bad")).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["lastError"],
        "rejected: JSM refused the customer (400) (step create)"
    );
    let id = body["id"].as_str().unwrap().to_string();
    let fetched: Value = app
        .get_signup(&id, &app.token())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["lastError"], body["lastError"]);
    assert!(fetched.get("lastErrorDetail").is_none(), "{fetched}");

    // The operator sees JSM's own message.
    let config = write_config(app.dir.path(), &app.sim.base_url, "", "");
    let (code, stdout, stderr) = run_cli(&config, &["signups", "show", &id]);
    assert_eq!(code, 0, "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    let detail = shown["lastErrorDetail"].as_str().unwrap();
    assert!(detail.contains("Injected failure."), "{detail}");
    assert_eq!(shown["lastError"], body["lastError"]);
    app.stop().await;
}

#[tokio::test]
async fn a_dropped_connection_is_a_network_error_without_the_transport_chain() {
    let app = spawn_app_with(sim_config(), |c| {
        c.delivery.inline_wait = Duration::from_millis(300);
        c.delivery.backoff_base = Duration::from_secs(30);
        c.delivery.backoff_max = Duration::from_secs(30);
    })
    .await;
    app.sim.state().push_fault(fault(
        None,
        CUSTOMER_PATH,
        FaultAction::Drop {
            process_first: false,
        },
    ));
    let response = app
        .post_json(&signup_body("drop@example.com", "Drop"))
        .await;
    let id = id_of(response).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let body = loop {
        let body: Value = app
            .get_signup(&id, &app.token())
            .await
            .json()
            .await
            .unwrap();
        if body["lastError"].is_string() || tokio::time::Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(body["status"], "pending");
    assert_eq!(
        body["lastError"], "network_error: connection failed (step create)",
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unavailable_tenant_is_not_described_to_senders() {
    let app = spawn_app_with(sim_config(), |c| {
        c.sources.push(source(
            "orphan",
            "orphan-secret-0123456789abcdef-0123456789",
            "https://gone-site.atlassian.net",
        ));
    })
    .await;
    let response = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(token_for(
            "orphan",
            "orphan-secret-0123456789abcdef-0123456789",
        ))
        .json(&signup_body("orphan@example.com", "Orphan"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "tenant_unavailable");
    assert_eq!(
        problem["detail"],
        "the tenant of this source is unavailable"
    );
    app.stop().await;
}

#[tokio::test]
async fn signups_show_masks_the_email_unless_revealed() {
    let app = spawn_app().await;
    let response = app
        .post_json(&signup_body("reveal.me@example.com", "Reveal Me"))
        .await;
    assert_eq!(response.status(), 201);
    let id = id_of(response).await;
    let config = write_config(app.dir.path(), &app.sim.base_url, "", "");

    let (code, masked, _) = run_cli(&config, &["signups", "show", &id]);
    assert_eq!(code, 0);
    assert!(!masked.contains("reveal.me@"), "{masked}");
    let view: Value = serde_json::from_str(&masked).unwrap();
    assert_eq!(view["email"], "r***@example.com");
    assert_eq!(view["customer"]["emailAddress"], "r***@example.com");

    let (code, revealed, _) = run_cli(&config, &["signups", "show", &id, "--reveal"]);
    assert_eq!(code, 0);
    let view: Value = serde_json::from_str(&revealed).unwrap();
    assert_eq!(view["email"], "reveal.me@example.com");
    app.stop().await;
}

#[test]
fn check_config_prints_urls_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    let db = dir.path().join("b.db");
    std::fs::write(
        &path,
        format!(
            r#"
[database]
url = "sqlite://{}?dbtoken=db-query-secret"

[[tenants]]
id = "acme"
base_url = "https://tenant-user:tenant-pass@api.atlassian.com/ex/jira/cloud-1?sig=base-query-secret"
auth = {{ type = "oauth_client_credentials", client_id = "c", client_secret = "s", token_url = "https://auth.example.com/oauth/token?token=token-query-secret" }}

[[sources]]
id = "idp"
tenant = "acme"
jwks_url = "https://jwks-user:jwks-pass@idp.example.com/jwks.json?key=jwks-query-secret"
audience = "signup-bridge"
"#,
            db.display()
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = run_cli(&path, &["check-config"]);
    assert_eq!(code, 0, "{stderr}");
    for leaked in [
        "db-query-secret",
        "tenant-user",
        "tenant-pass",
        "base-query-secret",
        "token-query-secret",
        "jwks-user",
        "jwks-pass",
        "jwks-query-secret",
    ] {
        assert!(!stdout.contains(leaked), "{leaked} in {stdout}");
        assert!(!stderr.contains(leaked), "{leaked} in {stderr}");
    }
    for shown in [
        "https://[redacted]@api.atlassian.com/ex/jira/cloud-1?[redacted]",
        "https://auth.example.com/oauth/token?[redacted]",
        "https://[redacted]@idp.example.com/jwks.json?[redacted]",
    ] {
        assert!(stdout.contains(shown), "{shown} not in {stdout}");
    }
}

#[tokio::test]
async fn a_short_retention_starts_with_a_warning() {
    use super::process::BridgeProcess;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9", "", "");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[idempotency]\nretention = \"30m\"\n");
    std::fs::write(&config, text).unwrap();
    let bridge = BridgeProcess::start(&config).await;
    let logs = bridge.logs();
    assert!(
        logs.iter()
            .any(|l| l.contains("WARN") && l.contains("idempotency.retention is 30m")),
        "{logs:#?}"
    );
    bridge.terminate().await;
}
