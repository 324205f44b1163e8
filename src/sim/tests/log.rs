//! The request log, latency and reset.

use super::*;
use std::time::{Duration, Instant};

#[tokio::test]
async fn request_log_records_headers_times_and_statuses() {
    let sim = start(SimConfig {
        latency: Duration::from_millis(150),
        ..config()
    })
    .await;
    let started = Instant::now();
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 201);
    assert!(started.elapsed() >= Duration::from_millis(150));
    let bad = create_req(&client(), &sim.base_url, "x@example.com", false)
        .bearer_auth("nope")
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status().as_u16(), 401);

    let log = sim.state().requests();
    assert_eq!(log.len(), 2);
    let first = &log[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, CREATE);
    assert_eq!(first.query, "strictConflictStatusCode=true");
    assert!(
        first
            .authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Basic "))
    );
    assert_eq!(first.content_type.as_deref(), Some("application/json"));
    assert_eq!(first.accept.as_deref(), Some("application/json"));
    assert_eq!(first.x_experimentalapi.as_deref(), Some("opt-in"));
    assert!(first.body.contains("fred@example.com"));
    assert_eq!(first.status, Some(201));
    let responded = first.responded_at.expect("responded_at");
    let waited = responded
        .duration_since(first.received_at)
        .expect("responded after received");
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
    assert_eq!(log[1].status, Some(401));
    assert!(log[1].received_at_ms >= first.received_at_ms);

    // The control API shows the same log with unix-millisecond numbers.
    let resp = client()
        .get(format!("{}/_sim/requests", sim.control_url))
        .send()
        .await
        .expect("requests");
    let (status, body) = status_and_json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body[0]["receivedAtMs"].as_u64(), Some(first.received_at_ms));
    assert!(body[0]["respondedAtMs"].as_u64().is_some());
    assert_eq!(body[0]["status"], 201);
    assert_eq!(body[1]["status"], 401);
    sim.stop().await;
}

#[tokio::test]
async fn reset_forgets_customers_requests_and_faults() {
    let sim = start(config()).await;
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 201);
    sim.state().set_latency(Duration::from_millis(50));
    let resp = client()
        .post(format!("{}/_sim/faults", sim.control_url))
        .json(&json!({"action": {"kind": "status", "status": 502}}))
        .send()
        .await
        .expect("fault");
    assert_eq!(resp.status().as_u16(), 204);
    let resp = client()
        .post(format!("{}/_sim/reset", sim.control_url))
        .send()
        .await
        .expect("reset");
    assert_eq!(resp.status().as_u16(), 204);
    assert!(sim.state().customers().is_empty());
    assert!(sim.state().requests().is_empty());
    assert!(sim.state().faults().is_empty());
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 201);
    let resp = client()
        .get(format!("{}/_sim/customers", sim.control_url))
        .send()
        .await
        .expect("customers");
    let (_, body) = status_and_json(resp).await;
    assert_eq!(body[0]["emailAddress"], "fred@example.com");
    assert!(body[0]["serviceDesks"].is_array());
    sim.stop().await;
}
