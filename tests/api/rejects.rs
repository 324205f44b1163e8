//! Rejections: every one a problem+json with a stable code, zero JSM calls, nothing stored.

use base64::Engine as _;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};

use super::helpers::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

async fn assert_problem(response: reqwest::Response, status: u16, code: &str, case: &str) -> Value {
    assert_eq!(response.status(), status, "{case}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{case}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{case}");
    assert_eq!(body["status"], status, "{case}");
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "{case}: {field}");
    }
    body
}

#[tokio::test]
async fn bad_tokens_are_401_and_change_nothing() {
    let app = spawn_app_with(sim_config(), |c| {
        c.sources.push({
            let mut s = source("aud-source", "aud-secret-0000000000000000-0000000", TENANT);
            s.audience = Some("signup-bridge".into());
            s
        })
    })
    .await;
    let t = now();
    let valid = json!({"iss": SOURCE, "iat": t, "exp": t + 300});
    let with = |patch: Value| {
        let mut claims = valid.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        sign(&claims, SECRET)
    };
    let none_alg = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&valid)
    );
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("malformed", Some("Bearer not.a.jwt".into())),
        ("wrong scheme", Some(format!("Basic {}", with(json!({}))))),
        (
            "bad signature",
            Some(format!("Bearer {}", sign(&valid, "another-secret"))),
        ),
        ("alg none", Some(format!("Bearer {none_alg}"))),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                with(json!({"iat": t - 600, "exp": t - 300}))
            )),
        ),
        (
            "nbf in the future",
            Some(format!("Bearer {}", with(json!({"nbf": t + 600})))),
        ),
        (
            "iat in the future",
            Some(format!(
                "Bearer {}",
                with(json!({"iat": t + 600, "exp": t + 900}))
            )),
        ),
        (
            "lifetime over max",
            Some(format!("Bearer {}", with(json!({"exp": t + 7200})))),
        ),
        (
            "no exp",
            Some(format!("Bearer {}", with(json!({"exp": null})))),
        ),
        (
            "no iat",
            Some(format!("Bearer {}", with(json!({"iat": null})))),
        ),
        (
            "unknown iss",
            Some(format!("Bearer {}", with(json!({"iss": "stranger"})))),
        ),
        (
            "wrong qsh",
            Some(format!("Bearer {}", with(json!({"qsh": "0".repeat(64)})))),
        ),
        (
            "wrong aud",
            Some(format!(
                "Bearer {}",
                sign(
                    &json!({"iss": "aud-source", "iat": t, "exp": t + 60, "aud": "someone-else"}),
                    "aud-secret-0000000000000000-0000000"
                )
            )),
        ),
        (
            "missing aud",
            Some(format!(
                "Bearer {}",
                sign(
                    &json!({"iss": "aud-source", "iat": t, "exp": t + 60}),
                    "aud-secret-0000000000000000-0000000"
                )
            )),
        ),
    ];
    let body = signup_body("tok@example.com", "Tok").to_string();
    for (case, header) in cases {
        let mut request = app
            .client
            .post(format!("{}/webhooks/signup", app.address))
            .header("Content-Type", "application/json")
            .body(body.clone());
        if let Some(h) = header {
            request = request.header("Authorization", h);
        }
        let response = request.send().await.unwrap();
        let problem = assert_problem(response, 401, "invalid_token", case).await;
        assert!(!problem.to_string().contains(SECRET), "{case}");
    }
    assert!(app.sim.state().requests().is_empty());
    assert_eq!(app.stored_signups().await, 0);

    // The accepted forms: `JWT` scheme (any case), a matching qsh, an aud list.
    let qsh = signup_bridge::auth::qsh::qsh("POST", "/webhooks/signup", "");
    let accepted = [
        format!("jwt {}", with(json!({}))),
        format!("BEARER {}", with(json!({"qsh": qsh}))),
        format!(
            "Bearer {}",
            sign(
                &json!({"iss": "aud-source", "iat": t, "exp": t + 60, "aud": ["x", "signup-bridge"]}),
                "aud-secret-0000000000000000-0000000"
            )
        ),
    ];
    for (i, header) in accepted.iter().enumerate() {
        let response = app
            .client
            .post(format!("{}/webhooks/signup", app.address))
            .header("Content-Type", "application/json")
            .header("Authorization", header)
            .body(signup_body(&format!("ok{i}@example.com"), "Ok").to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "accepted form {i}");
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_payloads_are_400_naming_the_field() {
    let app = spawn_app().await;
    let long_email = format!("{}@example.com", "a".repeat(250));
    let long_name = "n".repeat(256);
    let cases: Vec<(String, &str)> = vec![
        (json!({"email": "fred.example.com"}).to_string(), "email"),
        (json!({"email": "fred@@example.com"}).to_string(), "email"),
        (json!({"email": "fr ed@example.com"}).to_string(), "email"),
        (
            json!({"email": "fred\u{1}@example.com"}).to_string(),
            "email",
        ),
        (json!({"email": long_email}).to_string(), "email"),
        (json!({"email": ""}).to_string(), "email"),
        (json!({"displayName": "No Email"}).to_string(), "email"),
        (
            json!({"email": "ok@example.com", "displayName": long_name}).to_string(),
            "displayName",
        ),
        (
            json!({"email": "ok@example.com", "displayName": "Bad\u{7}Name"}).to_string(),
            "displayName",
        ),
        (
            json!({"email": "ok@example.com", "fullName": "Bad\nName"}).to_string(),
            "fullName",
        ),
        ("this is not json".to_string(), "body"),
        ("[1, 2]".to_string(), "body"),
    ];
    for (body, field) in cases {
        let response = app.post(&body, "application/json", &[]).await;
        let problem = assert_problem(response, 400, "invalid_payload", &body).await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
        assert!(problem["errors"][0]["message"].is_string());
    }
    for key in ["", "has space", "\"unterminated"] {
        let response = app
            .post(
                &signup_body("k@example.com", "K").to_string(),
                "application/json",
                &[("Idempotency-Key", key)],
            )
            .await;
        assert_problem(response, 400, "invalid_idempotency_key", key).await;
    }
    assert!(app.sim.state().requests().is_empty());
    assert_eq!(app.stored_signups().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn media_type_and_size_are_checked_first() {
    let app = spawn_app().await;
    let body = signup_body("m@example.com", "M").to_string();
    let plain = app.post(&body, "text/plain", &[]).await;
    assert_problem(plain, 415, "unsupported_media_type", "text/plain").await;
    let missing = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(app.token())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_problem(missing, 415, "unsupported_media_type", "no content type").await;
    // 415 comes before 401: no token needed to learn the media type is wrong.
    let no_token = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .header("Content-Type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 415);
    let huge = format!(
        r#"{{"email":"big@example.com","pad":"{}"}}"#,
        "x".repeat(1 << 20)
    );
    let big = app.post(&huge, "application/json", &[]).await;
    assert_problem(big, 413, "payload_too_large", "1 MiB").await;
    let not_found = app
        .client
        .get(format!("{}/nowhere", app.address))
        .send()
        .await
        .unwrap();
    assert_problem(not_found, 404, "not_found", "404").await;
    let wrong_method = app
        .client
        .get(format!("{}/webhooks/signup", app.address))
        .send()
        .await
        .unwrap();
    assert_problem(wrong_method, 405, "method_not_allowed", "405").await;
    assert_eq!(app.stored_signups().await, 0);
    app.stop().await;
}

super::backends::also_on_postgres!(
    bad_tokens_are_401_and_change_nothing,
    bad_payloads_are_400_naming_the_field,
    media_type_and_size_are_checked_first
);
