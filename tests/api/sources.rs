//! Asymmetric and rotated-secret sources, and the per-source rate limit.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use signup_bridge::config::{RateLimitConfig, Secret, SourceConfig};

use super::helpers::*;

macro_rules! key {
    ($name:literal) => {
        include_str!(concat!("../fixtures/keys/", $name))
    };
}
pub(crate) use key;

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The signing key of a test PEM (or the HMAC secret itself for HS*).
pub fn encoding_key(alg: Algorithm, pem: &str) -> EncodingKey {
    use Algorithm::*;
    match alg {
        HS256 | HS384 | HS512 => EncodingKey::from_secret(pem.as_bytes()),
        ES256 | ES384 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    }
}

/// A token of `iss` signed with `alg` by `pem`, valid for 5 minutes.
pub fn sign(alg: Algorithm, pem: &str, iss: &str, kid: Option<&str>) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    let t = now();
    let claims = json!({"iss": iss, "iat": t, "exp": t + 300, "aud": AUDIENCE});
    encode(&header, &claims, &encoding_key(alg, pem)).unwrap()
}

/// The `audience` of the asymmetric test sources (required for them) and the `aud` of [`sign`].
pub const AUDIENCE: &str = "signup-bridge-tests";

/// A source without keys, with the audience every asymmetric source needs; the caller sets one
/// kind of key.
pub fn keyless_source(id: &str) -> SourceConfig {
    let mut s = source(id, "unused", TENANT);
    s.secret = None;
    s.audience = Some(AUDIENCE.into());
    s
}

fn pem_source(id: &str, pem: &str) -> SourceConfig {
    let mut s = keyless_source(id);
    s.public_key_pem = Some(pem.to_string());
    s
}

/// POST a signup with `token`; the status, and the problem `code` if any.
pub async fn post_with(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn asymmetric_tokens_verify_only_with_their_own_key() {
    let app = spawn_app_with(sim_config(), |c| {
        c.sources.push(pem_source("rsa", key!("rsa_a.pub")));
        c.sources.push({
            // An `RSA PUBLIC KEY` (PKCS#1) file, relative to the working directory.
            let mut s = keyless_source("rsa-file");
            s.public_key_file = Some("tests/fixtures/keys/rsa_a_pkcs1.pub".into());
            s
        });
        c.sources.push(pem_source("ec", key!("p256_a.pub")));
        c.sources.push(pem_source("ec384", key!("p384_a.pub")));
        c.sources.push(pem_source("ed", key!("ed25519_a.pub")));
    })
    .await;
    use Algorithm::*;
    let cases: &[(&str, Algorithm, &str, u16)] = &[
        ("rsa", RS256, key!("rsa_a.key"), 201),
        ("rsa", PS256, key!("rsa_a.key"), 201),
        ("rsa", RS512, key!("rsa_a.key"), 201),
        ("rsa-file", PS384, key!("rsa_a.key"), 201),
        ("ec", ES256, key!("p256_a.key"), 201),
        ("ec384", ES384, key!("p384_a.key"), 201),
        ("ed", EdDSA, key!("ed25519_a.key"), 201),
        // Right algorithm, wrong key.
        ("rsa", RS256, key!("rsa_b.key"), 401),
        ("rsa", PS256, key!("rsa_b.key"), 401),
        ("ec", ES256, key!("p256_b.key"), 401),
        ("ed", EdDSA, key!("ed25519_b.key"), 401),
        // An algorithm of another key type.
        ("rsa", ES256, key!("p256_a.key"), 401),
        ("ec", ES384, key!("p384_a.key"), 401),
        // Alg confusion: HMAC keyed with the public key PEM the bridge holds.
        ("rsa", HS256, key!("rsa_a.pub"), 401),
        ("rsa-file", HS256, key!("rsa_a_pkcs1.pub"), 401),
        ("ec", HS256, key!("p256_a.pub"), 401),
        ("ed", HS512, key!("ed25519_a.pub"), 401),
    ];
    for (i, (source, alg, pem, status)) in cases.iter().enumerate() {
        let token = sign(*alg, pem, source, None);
        let body = signup_body(&format!("user{i}@example.com"), "Key User");
        let (got, problem) = post_with(&app, &token, &body).await;
        let case = format!("{source} {alg:?} case {i}");
        assert_eq!(got, *status, "{case}: {problem}");
        if *status == 401 {
            assert_eq!(problem["code"], "invalid_token", "{case}");
        }
    }
    assert_eq!(app.creates().len(), 7);
    app.stop().await;
}

#[tokio::test]
async fn every_rotated_hmac_secret_is_tried() {
    let app = spawn_app_with(sim_config(), |c| {
        let mut s = keyless_source("rotating");
        s.audience = None;
        s.secrets = vec![
            Secret::new("new-secret-0123456789abcdef-0123456"),
            Secret::new("old-secret-0123456789abcdef-0123456"),
        ];
        c.sources.push(s);
    })
    .await;
    let cases = [
        ("new-secret-0123456789abcdef-0123456", 201),
        ("old-secret-0123456789abcdef-0123456", 201),
        ("retired-secret-0123456789abcdef-0123", 401),
    ];
    for (i, (secret, status)) in cases.into_iter().enumerate() {
        let token = token_for("rotating", secret);
        let body = signup_body(&format!("rot{i}@example.com"), "Rot User");
        let (got, problem) = post_with(&app, &token, &body).await;
        assert_eq!(got, status, "{secret}: {problem}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_bad_public_key_stops_start_up_naming_the_key() {
    let sim = start_sim(sim_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), &sim.base_url);
    let mut s = keyless_source("broken");
    s.public_key_file = Some("tests/fixtures/keys/missing.pub".into());
    config.sources.push(s);
    let options = signup_bridge::startup::ServeOptions::default();
    let err = signup_bridge::startup::Application::build(config, options)
        .await
        .err()
        .unwrap();
    assert!(
        err.downcast_ref::<signup_bridge::config::ConfigError>()
            .is_some()
    );
    let message = err.to_string();
    assert!(message.contains("sources[1].public_key_file"), "{message}");
    assert!(message.contains("missing.pub"), "{message}");
    sim.stop().await;
}

fn limited(id: &str, requests_per_second: f64, burst: u32) -> SourceConfig {
    let mut s = source(
        id,
        &format!("{id}-secret-0123456789abcdef-0123456789"),
        TENANT,
    );
    s.rate_limit = Some(RateLimitConfig {
        requests_per_second,
        burst,
    });
    s
}

#[tokio::test]
async fn a_source_over_its_rate_limit_gets_429_and_others_do_not() {
    let app = spawn_app_with(sim_config(), |c| {
        c.sources.push(limited("limited", 0.01, 2));
        c.sources.push(limited("victim", 0.01, 1));
    })
    .await;
    // An empty object is a 400 after the limit check, so the budget is spent without JSM work.
    let body = json!({});
    let limited_token = token_for("limited", "limited-secret-0123456789abcdef-0123456789");
    for _ in 0..2 {
        let (status, problem) = post_with(&app, &limited_token, &body).await;
        assert_eq!((status, &problem["code"]), (400, &json!("invalid_payload")));
    }
    let response = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(&limited_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=100).contains(&retry_after), "{retry_after}");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited");
    assert_eq!(problem["status"], 429);

    // Other sources keep their own budget.
    for _ in 0..5 {
        let (status, _) = post_with(&app, &app.token(), &body).await;
        assert_eq!(status, 400);
    }
    // Forged tokens naming `victim` fail authentication and never touch its bucket.
    for _ in 0..5 {
        let forged = token_for("victim", "guessed-secret-0123456789abcdef-0123456789");
        let (status, problem) = post_with(&app, &forged, &body).await;
        assert_eq!((status, &problem["code"]), (401, &json!("invalid_token")));
    }
    let victim_token = token_for("victim", "victim-secret-0123456789abcdef-0123456789");
    assert_eq!(post_with(&app, &victim_token, &body).await.0, 400);
    assert_eq!(post_with(&app, &victim_token, &body).await.0, 429);
    assert_eq!(app.creates().len(), 0);
    app.stop().await;
}

super::backends::also_on_postgres!(
    asymmetric_tokens_verify_only_with_their_own_key,
    every_rotated_hmac_secret_is_tried,
    a_source_over_its_rate_limit_gets_429_and_others_do_not
);

/// The public-key check lives with its parser (`auth/`), above `config/`: `check-config` runs it
/// too, with the same exit code and message as before the move.
#[test]
fn check_config_refuses_a_bad_public_key_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bridge.toml");
    std::fs::write(
        &path,
        "[[tenants]]\nid = \"t\"\nbase_url = \"https://t.atlassian.net\"\n\
         auth = { type = \"bearer\", token = \"bearer-token-0123\" }\n\
         [[sources]]\nid = \"s\"\ntenant = \"t\"\naudience = \"a\"\n\
         public_key_file = \"tests/fixtures/keys/missing.pub\"\n",
    )
    .unwrap();
    let (code, _, stderr) = super::process::run_cli(&path, &["check-config"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("bridge.toml:9:1: key `sources[0].public_key_file`: cannot read"),
        "{stderr}"
    );
}
