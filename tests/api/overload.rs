//! A bounded intake (SPEC §21): past `server.max_intake_in_flight` a new signup is answered
//! `503 overloaded` with `Retry-After` and nothing stored, replays of finished signups still
//! answer, and past `delivery.max_inline_waiters` a committed signup is answered `202` at once.

use std::time::Duration;

use serde_json::Value;
use sqlx::Connection;

use super::helpers::*;

/// What `send` hands back: status, `Retry-After`, `Idempotent-Replayed`, the body.
type Answer = (u16, Option<String>, bool, Value);

/// `n` new signups sent at once (keys `{prefix}-{i}`), each answered on its own task.
fn spawn_sends(
    client: &reqwest::Client,
    url: &str,
    prefix: &str,
    n: usize,
) -> Vec<tokio::task::JoinHandle<Answer>> {
    (0..n)
        .map(|i| {
            let (client, url) = (client.clone(), url.to_string());
            let (key, email) = (format!("{prefix}-{i}"), format!("{prefix}{i}@example.com"));
            tokio::spawn(async move { send(client, url, &key, &email).await })
        })
        .collect()
}

/// POST a new signup under `key` to `path` (`/webhooks/signup` or a source's own route):
/// status, `Retry-After`, `Idempotent-Replayed`, body.
async fn send(client: reqwest::Client, url: String, key: &str, email: &str) -> Answer {
    let answer = client
        .post(url)
        .bearer_auth(token_for(SOURCE, SECRET))
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", key)
        .body(signup_body(email, "Load").to_string())
        .send()
        .await
        .expect("request");
    let status = answer.status().as_u16();
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let retry_after = header("retry-after");
    let replayed = header("idempotent-replayed").is_some();
    (
        status,
        retry_after,
        replayed,
        answer.json().await.expect("json"),
    )
}

/// Poll `now` until it is `want`; bounded (idle it takes milliseconds).
async fn until(what: &str, want: usize, now: impl Fn() -> usize) {
    for _ in 0..500 {
        if now() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} never reached {want} (it is {})", now());
}

async fn counter(app: &TestApp, name: &str) -> f64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("{name}{{source=\"{SOURCE}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0.0, |v| v.parse().unwrap())
}

const OVERLOADED: &str = "signup_bridge_intake_overloaded_total";
const SKIPPED: &str = "signup_bridge_inline_waits_skipped_total";

// SQLite only: holding its write lock is how this test keeps two signups before their commit;
// the bound itself is the same code on both backends.
#[tokio::test]
async fn a_full_intake_answers_503_overloaded_stores_nothing_and_the_retry_is_accepted() {
    let app = spawn_app_with(sim_config(), |c| c.server.max_intake_in_flight = 2).await;
    let url = format!("{}/webhooks/signup", app.address);
    let (status, _, _, _) = send(
        app.client.clone(),
        url.clone(),
        "done-1",
        "done@example.com",
    )
    .await;
    assert_eq!(status, 201, "a finished signup, replayed below");
    // Its first replay reads it from the database and keeps it in memory, trusted for 2 s
    // (`http::finished`): the replay below comes within tens of milliseconds of this one.
    let (status, _, replayed, _) = send(
        app.client.clone(),
        url.clone(),
        "done-1",
        "done@example.com",
    )
    .await;
    assert_eq!((status, replayed), (201, true));
    let before = counter(&app, OVERLOADED).await;

    // Another process holds the write lock (for up to the 10 s busy timeout): the next two
    // signups take both permits and wait for it before their commit.
    let mut holder = sqlx::SqliteConnection::connect(&app.config.database.url)
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let held: Vec<_> = spawn_sends(&app.client, &url, "held", 2);
    let admission = app.admission.clone();
    until("intake in flight", 2, || admission.intake_in_flight()).await;
    // A replay of a finished signup is answered from memory, without a permit,
    // while new signups are refused (below).
    let (status, _, replayed, body) = send(
        app.client.clone(),
        url.clone(),
        "done-1",
        "done@example.com",
    )
    .await;
    assert_eq!((status, replayed), (201, true), "{body}");

    let (status, retry_after, _, problem) = send(
        app.client.clone(),
        url.clone(),
        "third",
        "third@example.com",
    )
    .await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["code"], "overloaded");
    assert_eq!(problem["type"], "urn:signup-bridge:problem:overloaded");
    assert_eq!(retry_after.as_deref(), Some("1"));
    // The source's own route shares the bound.
    let own = format!("{}/webhooks/signup/{SOURCE}", app.address);
    let (status, retry_after, _, problem) =
        send(app.client.clone(), own, "fourth", "fourth@example.com").await;
    assert_eq!(
        (status, retry_after.as_deref()),
        (503, Some("1")),
        "{problem}"
    );
    assert_eq!(problem["code"], "overloaded");
    assert_eq!(counter(&app, OVERLOADED).await - before, 2.0);

    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    holder.close().await.unwrap();
    for task in held {
        let (status, _, _, body) = task.await.unwrap();
        assert!(status == 201 || status == 202, "{status} {body}");
    }
    assert_eq!(app.admission.intake_in_flight(), 0, "every permit returned");
    assert_eq!(app.stored_signups().await, 3, "the two 503s stored nothing");

    // Retried later, the refused signup is a new one (not a replay) and is accepted.
    let (status, _, replayed, body) =
        send(app.client.clone(), url, "third", "third@example.com").await;
    assert!(
        (status == 201 || status == 202) && !replayed,
        "{status} {body}"
    );
    assert_eq!(app.stored_signups().await, 4);
    app.stop().await;
}

#[tokio::test]
async fn inline_waiters_past_their_bound_are_answered_202_at_once_and_committed() {
    // JSM holds every answer past the bridge's call timeout: nothing finishes until the
    // latency is lifted, so the first two requests wait inline for the whole test.
    let sim = signup_bridge::sim::SimConfig {
        latency: Duration::from_secs(60),
        ..sim_config()
    };
    let app = spawn_app_with(sim, |c| {
        c.delivery.max_inline_waiters = 2;
        c.delivery.inline_wait = Duration::from_secs(25);
    })
    .await;
    let url = format!("{}/webhooks/signup", app.address);
    let before = counter(&app, SKIPPED).await;
    let waiting: Vec<_> = spawn_sends(&app.client, &url, "wait", 2);
    let admission = app.admission.clone();
    until("inline waiters", 2, || admission.inline_waiters()).await;

    let (status, _, _, body) = send(app.client.clone(), url, "third", "third@example.com").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "pending");
    assert!(
        waiting.iter().all(|w| !w.is_finished()),
        "answered while the first two still wait inline"
    );
    assert!(counter(&app, SKIPPED).await - before >= 1.0);
    // Committed: readable, and delivered once JSM answers again.
    let id = body["id"].as_str().unwrap();
    let read = app.get_signup(id, &app.token()).await;
    assert_eq!(read.status(), 200);

    app.sim.state().set_latency(Duration::ZERO);
    for task in waiting {
        let (status, _, _, body) = task.await.unwrap();
        // JSM kept the first call's customer though its answer came too late: `existing`.
        assert!(status == 200 || status == 201, "{status} {body}");
    }
    let done = app.wait_final(id, Duration::from_secs(20)).await;
    assert!(
        done["status"] == "created" || done["status"] == "existing",
        "{done}"
    );
    assert_eq!(app.admission.inline_waiters(), 0);
    app.stop().await;
}

super::backends::also_on_postgres!(
    inline_waiters_past_their_bound_are_answered_202_at_once_and_committed
);
