//! Fault scripts, the token bucket and dropped connections.

use super::*;
use crate::sim::{Fault, FaultAction, SimRateLimit};
use std::time::{Duration, Instant};

#[tokio::test]
async fn status_script_fails_three_times_then_creates() {
    let sim = start(config()).await;
    let fault = json!({"times": 3, "pathContains": "/customer",
        "action": {"kind": "status", "status": 500}});
    let resp = client()
        .post(format!("{}/_sim/faults", sim.control_url))
        .json(&json!({ "faults": [fault] }))
        .send()
        .await
        .expect("push fault");
    assert_eq!(resp.status().as_u16(), 204);
    for _ in 0..3 {
        let (status, body) = create(&sim, "fred@example.com", true).await;
        assert_eq!(status, 500, "{body}");
        assert!(sim.state().customers().is_empty());
    }
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 201);
    assert_eq!(sim.state().customers().len(), 1);
    let statuses: Vec<_> = sim.state().requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(500), Some(201)]);
    assert!(sim.state().faults().is_empty());
    sim.stop().await;
}

#[tokio::test]
async fn status_fault_after_processing_has_the_effect() {
    let sim = start(config()).await;
    sim.state().push_fault(Fault {
        times: Some(1),
        path_contains: None,
        method: Some("POST".into()),
        action: FaultAction::Status {
            status: 503,
            retry_after: Some(4),
            process_first: true,
        },
    });
    let resp = create_req(&client(), &sim.base_url, "fred@example.com", true)
        .basic_auth(EMAIL, Some(API_TOKEN))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(resp.headers()["retry-after"], "4");
    assert_eq!(sim.state().customers().len(), 1);
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 409);
    sim.stop().await;
}

#[tokio::test]
async fn token_bucket_answers_429_with_retry_after_and_no_effect() {
    let sim = start(SimConfig {
        rate_limit: Some(SimRateLimit {
            per_second: 0.001,
            burst: 2,
            retry_after_secs: 7,
        }),
        ..config()
    })
    .await;
    assert_eq!(create(&sim, "a@example.com", true).await.0, 201);
    assert_eq!(create(&sim, "b@example.com", true).await.0, 201);
    let resp = create_req(&client(), &sim.base_url, "c@example.com", true)
        .basic_auth(EMAIL, Some(API_TOKEN))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let (_, body) = status_and_json(resp).await;
    jsm_error(&body);
    assert_eq!(sim.state().customers().len(), 2);
    assert_eq!(sim.state().requests()[2].status, Some(429));
    // Lifting the limit through the control API lets requests through again.
    let resp = client()
        .post(format!("{}/_sim/config", sim.control_url))
        .json(&json!({"rateLimit": null}))
        .send()
        .await
        .expect("config");
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(create(&sim, "c@example.com", true).await.0, 201);
    sim.stop().await;
}

fn drop_fault(process_first: bool) -> Fault {
    Fault {
        times: Some(1),
        path_contains: Some(CREATE.into()),
        method: None,
        action: FaultAction::Drop { process_first },
    }
}

#[tokio::test]
async fn drop_is_a_connection_error_not_a_timeout() {
    let sim = start(config()).await;
    for (process_first, customers_after) in [(false, 0), (true, 1)] {
        sim.state().push_fault(drop_fault(process_first));
        let started = Instant::now();
        let result = create_req(&client(), &sim.base_url, "fred@example.com", true)
            .basic_auth(EMAIL, Some(API_TOKEN))
            .send()
            .await;
        let err = result.expect_err("a dropped connection gives no response");
        // hyper reports the connection closed before a response head (IncompleteMessage).
        assert!(err.is_request() && !err.is_timeout(), "{err:?}");
        assert!(err.status().is_none(), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(sim.state().customers().len(), customers_after);
    }
    let log = sim.state().requests();
    assert!(log.iter().all(|r| r.dropped && r.status.is_none()));
    // The next request is served normally.
    assert_eq!(create(&sim, "next@example.com", true).await.0, 201);
    sim.stop().await;
}

#[tokio::test]
async fn delay_fault_processes_then_answers_late() {
    let sim = start(config()).await;
    sim.state().push_fault(Fault {
        times: Some(1),
        path_contains: None,
        method: None,
        action: FaultAction::Delay { ms: 300 },
    });
    let started = Instant::now();
    let (status, _) = create(&sim, "fred@example.com", true).await;
    assert_eq!(status, 201);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let log = &sim.state().requests()[0];
    let taken = log.responded_at_ms.expect("responded") - log.received_at_ms;
    assert!(taken >= 300, "{taken}");
    sim.stop().await;
}

#[tokio::test]
async fn control_api_is_never_faulted() {
    let sim = start(config()).await;
    sim.state().push_fault(Fault {
        times: None,
        path_contains: None,
        method: None,
        action: FaultAction::Status {
            status: 500,
            retry_after: None,
            process_first: false,
        },
    });
    let resp = client()
        .get(format!("{}/_sim/customers", sim.control_url))
        .send()
        .await
        .expect("control");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 500);
    let resp = client()
        .delete(format!("{}/_sim/faults", sim.control_url))
        .send()
        .await
        .expect("clear");
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 201);
    sim.stop().await;
}
