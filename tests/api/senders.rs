//! Marketing and form tools as senders, end to end through the real server and the simulator:
//! every scheme's realistically signed payload becomes exactly one customer, a resend is a
//! replay, and a wrong, missing, stale or altered signature is 401 `invalid_signature` with
//! nothing stored.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use signup_bridge::config::VerifyScheme;

use super::helpers::*;
use super::vendors::{Sender, fixture, senders, sign};

pub(super) async fn app_with(tweak: impl FnOnce(&mut signup_bridge::config::Config)) -> TestApp {
    spawn_app_with(sim_config(), |config| {
        config
            .sources
            .extend(senders().into_iter().map(|s| s.source));
        tweak(config);
    })
    .await
}

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub(super) fn url(app: &TestApp, id: &str) -> String {
    format!("{}/webhooks/signup/{id}", app.address)
}

/// POST `body` to the sender's route, signed with `secret` at `at_ms` (None: unsigned).
pub(super) async fn deliver(
    app: &TestApp,
    s: &Sender,
    body: &[u8],
    signed: Signed<'_>,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let target = url(app, &s.source.id);
    let delivery = signed
        .map(|(signed_body, secret, at)| sign(s.source.verify, secret, signed_body, &target, at));
    let query = delivery.as_ref().and_then(|d| d.query.clone());
    let mut request = match query {
        Some(query) => app.client.post(format!("{target}?{query}")),
        None => app.client.post(&target),
    };
    for (name, value) in delivery.iter().flat_map(|d| &d.headers) {
        request = request.header(name, value);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request
        .header("Content-Type", s.content_type)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

/// The body signed, the secret, the time (ms); None: unsigned.
pub(super) type Signed<'a> = Option<(&'a [u8], &'a str, i64)>;

pub(super) fn creates_for(app: &TestApp, email: &str) -> usize {
    app.creates()
        .iter()
        .filter(|r| r.body.contains(email))
        .count()
}

#[tokio::test]
async fn every_scheme_makes_one_customer_and_answers_a_resend_as_a_replay() {
    let app = app_with(|_| {}).await;
    for s in senders() {
        let id = s.source.id.clone();
        let at = now_ms();
        let first = deliver(&app, &s, &s.body, Some((&s.body, s.secret, at)), &[]).await;
        assert_eq!(first.status(), 201, "{id}: {:?}", first.text().await);
        let first: Value = first.json().await.unwrap();
        assert_eq!(first["email"], s.email, "{id}");
        let again = deliver(&app, &s, &s.body, Some((&s.body, s.secret, at)), &[]).await;
        assert_eq!(again.status(), 201, "{id}");
        assert_eq!(
            again.headers().get("Idempotent-Replayed").unwrap(),
            "true",
            "{id}"
        );
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["id"], first["id"], "{id}");
        assert_eq!(creates_for(&app, s.email), 1, "{id}");
        let key = first["idempotencyKey"].as_str().unwrap();
        let want = match id.as_str() {
            "svix" => "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
            "stripe" => "evt_1QdX8h2eZvKYlo2C",
            "typeform" => "a3a12ec67a1ace1b5b6a8dbe1fdc3f7c",
            "tally" => "2wgx4n",
            "webflow" => "6321ca84df3949bfc6752327",
            _ => "sha256:",
        };
        assert!(key.starts_with(want), "{id}: key {key}");
    }
    assert_eq!(app.stored_signups().await, senders().len());
    app.stop().await;
}

#[tokio::test]
async fn wrong_missing_stale_or_altered_signatures_are_401_and_store_nothing() {
    let app = app_with(|_| {}).await;
    for s in senders() {
        let id = s.source.id.clone();
        let wrong = if s.source.verify == VerifyScheme::StandardWebhooks {
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
        } else {
            "another-secret-0123456789"
        };
        let mut altered = s.body.clone();
        altered.extend_from_slice(if s.content_type == "application/json" {
            b" "
        } else {
            b"&x=1"
        });
        let now = now_ms();
        let mut cases: Vec<(&str, Signed, &[u8])> = vec![
            ("wrong secret", Some((&s.body, wrong, now)), &s.body),
            ("missing", None, &s.body),
        ];
        // A static secret covers no body; every signature scheme does.
        if !matches!(s.source.verify, VerifyScheme::Header | VerifyScheme::Query) {
            cases.push(("altered body", Some((&s.body, s.secret, now)), &altered));
        }
        // Ten minutes out: no slow machine brings it back inside the 5 m tolerance (the exact
        // boundary is covered by each scheme's unit tests).
        if s.timestamped {
            cases.push(("stale", Some((&s.body, s.secret, now - 600_000)), &s.body));
            cases.push(("future", Some((&s.body, s.secret, now + 600_000)), &s.body));
        }
        for (what, signed, body) in cases {
            let response = deliver(&app, &s, body, signed, &[]).await;
            assert_eq!(response.status(), 401, "{id}: {what}");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["code"], "invalid_signature", "{id}: {what}");
        }
    }
    assert_eq!(app.stored_signups().await, 0);
    assert!(app.creates().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn checks_keep_their_order_with_the_signature_in_place_of_the_token() {
    let app = app_with(|c| c.server.max_body_bytes = 4096).await;
    let typeform = senders()
        .into_iter()
        .find(|s| s.source.id == "typeform")
        .unwrap();
    let target = url(&app, "typeform");
    let unsigned = |ct: Option<&str>, body: Vec<u8>| {
        let mut r = app.client.post(&target).body(body);
        if let Some(ct) = ct {
            r = r.header("Content-Type", ct);
        }
        r
    };
    let code = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        (status, body["code"].as_str().unwrap().to_string())
    };
    let cases = [
        (None, typeform.body.clone(), 415, "unsupported_media_type"),
        (
            Some("application/json"),
            vec![b' '; 5000],
            413,
            "payload_too_large",
        ),
        (
            Some("application/json"),
            b"not json".to_vec(),
            401,
            "invalid_signature",
        ),
    ];
    for (ct, body, status, want) in cases {
        assert_eq!(
            code(unsigned(ct, body).send().await.unwrap()).await,
            (status, want.to_string())
        );
    }
    // Verified, then the mapping: an email question answered with a number names its path.
    let body = String::from_utf8(fixture("typeform.json"))
        .unwrap()
        .replace(r#""email": "laura.typeform@example.com""#, r#""email": 42"#)
        .into_bytes();
    let response = deliver(
        &app,
        &typeform,
        &body,
        Some((&body, typeform.secret, now_ms())),
        &[],
    )
    .await;
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_payload");
    assert_eq!(
        problem["errors"][0]["field"],
        "$.form_response.answers[?@.type=='email'].email"
    );
    // Unknown source: 404 problem+json.
    let response = app
        .client
        .post(url(&app, "nobody"))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(code(response).await, (404, "not_found".to_string()));
    assert_eq!(app.stored_signups().await, 0);
    app.stop().await;
}

super::backends::also_on_postgres!(
    every_scheme_makes_one_customer_and_answers_a_resend_as_a_replay,
    wrong_missing_stale_or_altered_signatures_are_401_and_store_nothing,
    checks_keep_their_order_with_the_signature_in_place_of_the_token
);
