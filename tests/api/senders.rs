//! Marketing and form tools as senders, end to end through the real server and the simulator:
//! every scheme's realistically signed payload becomes exactly one customer, a resend is a
//! replay, and a wrong, missing, stale or altered signature is 401 `invalid_signature` with
//! nothing stored.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use signup_bridge::config::VerifyScheme;

use super::helpers::*;
use super::vendors::{Sender, WHSEC, fixture, senders, sign};

async fn app_with(tweak: impl FnOnce(&mut signup_bridge::config::Config)) -> TestApp {
    spawn_app_with(sim_config(), |config| {
        config
            .sources
            .extend(senders().into_iter().map(|s| s.source));
        tweak(config);
    })
    .await
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn url(app: &TestApp, id: &str) -> String {
    format!("{}/webhooks/signup/{id}", app.address)
}

/// POST `body` to the sender's route, signed with `secret` at `at_ms` (None: unsigned).
async fn deliver(
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
type Signed<'a> = Option<(&'a [u8], &'a str, i64)>;

fn creates_for(app: &TestApp, email: &str) -> usize {
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
        if s.timestamped {
            cases.push(("stale", Some((&s.body, s.secret, now - 301_000)), &s.body));
            cases.push(("future", Some((&s.body, s.secret, now + 301_000)), &s.body));
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

#[tokio::test]
async fn key_precedence_header_then_scheme_id_and_unfit_values_are_hashed() {
    let app = app_with(|_| {}).await;
    let all = senders();
    let svix = all.iter().find(|s| s.source.id == "svix").unwrap();
    let response = deliver(
        &app,
        svix,
        &svix.body,
        Some((&svix.body, WHSEC, now_ms())),
        &[("Idempotency-Key", "from-header")],
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["idempotencyKey"], "from-header");

    let stripe = all.iter().find(|s| s.source.id == "stripe").unwrap();
    let event = br#"{"id":"evt with spaces","data":{"object":{"email":"spaced@example.com"}}}"#;
    let response = deliver(
        &app,
        stripe,
        event,
        Some((event, stripe.secret, now_ms())),
        &[],
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    use sha2::Digest as _;
    let hashed = format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(b"evt with spaces"))
    );
    assert_eq!(body["idempotencyKey"], hashed.as_str());
    app.stop().await;
}

#[tokio::test]
async fn jwt_sources_on_their_own_route_need_their_own_iss() {
    let app = app_with(|c| {
        c.sources
            .push(source("partner", "partner-secret-0123456789abcdef", TENANT))
    })
    .await;
    let post = |id: &str, token: String| {
        app.client
            .post(url(&app, id))
            .bearer_auth(token)
            .json(&signup_body("jwt.route@example.com", "Jay"))
            .send()
    };
    let ok = post(SOURCE, token_for(SOURCE, SECRET)).await.unwrap();
    assert_eq!(ok.status(), 201);
    let other = post("partner", token_for(SOURCE, SECRET)).await.unwrap();
    assert_eq!(other.status(), 401);
    let problem: Value = other.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_token");
    // A signature source's secret never verifies a JWT, on either route.
    let forged = token_for("zapier", super::vendors::PLAIN_SECRET);
    let response = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(&forged)
        .json(&signup_body("forged@example.com", "F"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(creates_for(&app, "jwt.route@example.com"), 1);
    assert_eq!(app.stored_signups().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn get_validates_a_query_sources_url_only() {
    let app = app_with(|_| {}).await;
    let secret = super::vendors::PLAIN_SECRET;
    let get = |path: String| app.client.get(format!("{}{path}", app.address)).send();
    let cases = [
        (
            format!("/webhooks/signup/mailchimp?key={secret}"),
            200,
            None,
        ),
        (
            "/webhooks/signup/mailchimp?key=wrong-key-0123456789".to_string(),
            401,
            Some("invalid_signature"),
        ),
        (
            "/webhooks/signup/mailchimp".to_string(),
            401,
            Some("invalid_signature"),
        ),
        (
            format!("/webhooks/signup/typeform?key={secret}"),
            405,
            Some("method_not_allowed"),
        ),
        (
            "/webhooks/signup/nobody".to_string(),
            404,
            Some("not_found"),
        ),
    ];
    for (path, status, code) in cases {
        let response = get(path.clone()).await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        if let Some(code) = code {
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["code"], code, "{path}");
        }
    }
    assert_eq!(app.stored_signups().await, 0);
    app.stop().await;
}
