//! Operations: metrics, request ids, retention.

use std::time::Duration;

use serde_json::Value;

use super::helpers::*;

async fn metrics_text(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    response.text().await.unwrap()
}

/// The value of the sample line that starts with `prefix` (name and labels).
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Labels of their own, so the counts hold while other tests in this process (which share the
/// one metrics recorder) count too.
const METRICS_SOURCE: &str = "metrics-source";
const METRICS_TENANT: &str = "metrics-tenant";

#[tokio::test]
async fn metrics_count_intake_and_jsm_calls() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].id = METRICS_TENANT.into();
        c.sources[0].id = METRICS_SOURCE.into();
        c.sources[0].tenant = METRICS_TENANT.into();
    })
    .await;
    app.sim
        .state()
        .push_fault(fault(Some(1), CUSTOMER_PATH, status(500, None)));
    let send = |body: &str| {
        app.client
            .post(format!("{}/webhooks/signup", app.address))
            .bearer_auth(token_for(METRICS_SOURCE, SECRET))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
    };
    let body = signup_body("m1@example.com", "M").to_string();
    assert_eq!(send(&body).await.unwrap().status(), 201);
    assert_eq!(send(&body).await.unwrap().status(), 201);
    assert_eq!(send("{}").await.unwrap().status(), 400);
    let forged = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let text = metrics_text(&app).await;
    let source = format!("source=\"{METRICS_SOURCE}\"");
    let tenant = format!("tenant=\"{METRICS_TENANT}\"");
    let count = |name: &str, labels: &[&str]| sample(&text, name, labels);
    let signups = "signup_bridge_signups_total";
    assert_eq!(count(signups, &[&source, "status=\"created\""]), 2.0);
    assert_eq!(count(signups, &[&source, "status=\"rejected\""]), 1.0);
    assert!(count(signups, &["source=\"unknown\"", "status=\"rejected\""]) >= 1.0);
    let jsm = "signup_bridge_jsm_requests_total";
    assert_eq!(count(jsm, &[&tenant, "outcome=\"server_error\""]), 1.0);
    assert_eq!(count(jsm, &[&tenant, "outcome=\"created\""]), 1.0);
    let durations = "signup_bridge_jsm_request_duration_seconds_count";
    assert_eq!(count(durations, &[&tenant]), 2.0);
    assert!(
        text.lines()
            .any(|l| l.starts_with("signup_bridge_pending_signups ")),
        "{text}"
    );
    assert!(!text.contains("m1@example.com"));
    app.stop().await;
}

#[tokio::test]
async fn request_ids_are_honoured_or_generated() {
    let app = spawn_app().await;
    let given = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("X-Request-Id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "abc-123");
    let generated = app
        .client
        .get(format!("{}/nowhere", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(generated.status(), 404);
    assert_eq!(
        generated.headers()["x-request-id"].to_str().unwrap().len(),
        36
    );
    app.stop().await;
}

#[tokio::test]
async fn finished_signups_are_purged_after_retention() {
    let app = spawn_app_with(sim_config(), |c| {
        c.idempotency.retention = Duration::from_secs(1)
    })
    .await;
    let first: Value = app
        .post_json(&signup_body("purge@example.com", "P"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(app.stored_signups().await, 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while app.stored_signups().await > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.stored_signups().await, 0, "purged");
    assert_eq!(
        app.get_signup(first["id"].as_str().unwrap(), &app.token())
            .await
            .status(),
        404
    );
    // The key is free again: the same payload is a new signup, resolved to the existing customer.
    let again = app.post_json(&signup_body("purge@example.com", "P")).await;
    assert_eq!(again.status(), 200);
    assert!(again.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.sim.state().customers().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/webhooks/signup"]["post"].is_object());
    app.stop().await;
}

// Not the metrics test: it reads the process-wide recorder, which a copy running beside it
// would count into.
super::backends::also_on_postgres!(
    request_ids_are_honoured_or_generated,
    finished_signups_are_purged_after_retention,
    the_openapi_document_is_served
);
