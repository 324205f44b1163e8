//! Every FIT rejection docs/FORGE.md lists, table-driven: one valid token, then one claim or header
//! changed at a time. Tokens are signed with the simulator's Forge key and verified against its
//! JWKS served by a local peer.

use serde_json::{Value, json};

use super::fit::{FitVerifier, system_token_exp};
use crate::config::Config;
use crate::outbound::test_server::{Served, serve};
use crate::sim::{fit_claims, forge_jwks, mint_fit};

const APP: &str = "ari:cloud:ecosystem::app/00000000-0000-0000-0000-0000000000aa";
const INSTALLATION: &str = "ari:cloud:ecosystem::installation/1";

fn claims() -> Value {
    fit_claims(
        APP,
        INSTALLATION,
        "cloud-1",
        "https://api.atlassian.com/ex/jira/cloud-1",
        "https://acme.atlassian.net",
        "PRODUCTION",
    )
}

fn now() -> i64 {
    crate::domain::now_ms() / 1000
}

async fn verifier(
    environments: &[&str],
) -> (FitVerifier, crate::outbound::test_server::TestServer) {
    let jwks = tokio::task::spawn_blocking(forge_jwks)
        .await
        .unwrap()
        .unwrap();
    let server = serve(Served::Body(jwks.to_string())).await;
    let mut config = Config::default();
    config.forge.app_id = APP.into();
    config.forge.jwks_url = server.url.clone();
    config.forge.environments = environments.iter().map(|e| e.to_string()).collect();
    (FitVerifier::from_config(&config).unwrap().unwrap(), server)
}

fn set(mut claims: Value, path: &[&str], value: Value) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut at = &mut claims;
    for key in parents {
        at = &mut at[*key];
    }
    at[*last] = value;
    claims
}

fn remove(mut claims: Value, path: &[&str]) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut at = &mut claims;
    for key in parents {
        at = &mut at[*key];
    }
    at.as_object_mut().unwrap().remove(*last);
    claims
}

#[tokio::test]
async fn a_valid_fit_names_its_installation() {
    let (verifier, _jwks) = verifier(&["production"]).await;
    let token = mint_fit(&claims()).await.unwrap();
    let fit = verifier.verify(&token).await.unwrap();
    assert_eq!(fit.installation_id, INSTALLATION);
    assert_eq!(
        fit.api_base_url,
        "https://api.atlassian.com/ex/jira/cloud-1"
    );
    assert_eq!(fit.cloud_id.as_deref(), Some("cloud-1"));
    assert_eq!(fit.site_url.as_deref(), Some("https://acme.atlassian.net"));
    assert_eq!(fit.jti.kind, "forge_invocation");
    assert!(!fit.jti.key.contains('-'), "a digest, not the jti");
    let local = set(
        claims(),
        &["app", "apiBaseUrl"],
        json!("http://127.0.0.1:9/ex/jira/c"),
    );
    let token = mint_fit(&local).await.unwrap();
    assert!(verifier.verify(&token).await.is_ok(), "loopback over http");
}

#[tokio::test]
async fn every_fit_rejection() {
    let (verifier, _jwks) = verifier(&["PRODUCTION", "STAGING"]).await;
    let t = now();
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "iss",
            "iss is not",
            set(claims(), &["iss"], json!("someone-else")),
        ),
        (
            "aud",
            "aud is not",
            set(claims(), &["aud"], json!("ari:cloud:ecosystem::app/other")),
        ),
        (
            "expired",
            "expired",
            set(
                set(claims(), &["exp"], json!(t - 600)),
                &["iat"],
                json!(t - 700),
            ),
        ),
        (
            "nbf in the future",
            "nbf",
            set(claims(), &["nbf"], json!(t + 600)),
        ),
        (
            "iat in the future",
            "iat is in the future",
            set(claims(), &["iat"], json!(t + 600)),
        ),
        ("no iat", "incomplete", remove(claims(), &["iat"])),
        ("no nbf", "incomplete", remove(claims(), &["nbf"])),
        ("no exp", "incomplete", remove(claims(), &["exp"])),
        ("no jti", "incomplete", remove(claims(), &["jti"])),
        ("empty jti", "no jti", set(claims(), &["jti"], json!(""))),
        (
            "app.id",
            "app.id",
            set(
                claims(),
                &["app", "id"],
                json!("ari:cloud:ecosystem::app/other"),
            ),
        ),
        ("no app.id", "app.id", remove(claims(), &["app", "id"])),
        (
            "no installationId",
            "installationId",
            remove(claims(), &["app", "installationId"]),
        ),
        (
            "environment",
            "environment",
            set(
                claims(),
                &["app", "environment", "type"],
                json!("DEVELOPMENT"),
            ),
        ),
        (
            "no environment",
            "environment",
            remove(claims(), &["app", "environment"]),
        ),
        (
            "no apiBaseUrl",
            "no app.apiBaseUrl",
            remove(claims(), &["app", "apiBaseUrl"]),
        ),
        (
            "host",
            "allowed host",
            set(
                claims(),
                &["app", "apiBaseUrl"],
                json!("https://evil.example.com/ex/jira/c"),
            ),
        ),
        (
            "http",
            "allowed host",
            set(
                claims(),
                &["app", "apiBaseUrl"],
                json!("http://api.atlassian.com/ex/jira/c"),
            ),
        ),
        (
            "userinfo",
            "allowed host",
            set(
                claims(),
                &["app", "apiBaseUrl"],
                json!("https://u:p@api.atlassian.com/x"),
            ),
        ),
        ("no app", "incomplete", remove(claims(), &["app"])),
    ];
    for (name, why, claims) in cases {
        let token = mint_fit(&claims).await.unwrap();
        let error = verifier.verify(&token).await.err();
        assert!(
            error.as_ref().is_some_and(|e| e.0.contains(why)),
            "{name}: {error:?}"
        );
    }
}

#[tokio::test]
async fn fit_headers_and_keys_are_checked() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let (verifier, _jwks) = verifier(&[]).await;
    let key = crate::sim::InstallerKey::shared().unwrap();
    let good_kid = crate::sim::forge_kid().unwrap();
    let no_kid = key
        .sign_with(Header::new(Algorithm::RS256), &claims())
        .unwrap();
    let rs512 = {
        let mut header = Header::new(Algorithm::RS512);
        header.kid = Some(good_kid.clone());
        key.sign_with(header, &claims()).unwrap()
    };
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(good_kid.clone());
        encode(
            &header,
            &claims(),
            &EncodingKey::from_secret(key.public_pem().as_bytes()),
        )
        .unwrap()
    };
    let unknown_kid = key.sign_as(&claims(), "not-a-forge-key").unwrap();
    let other = tokio::task::spawn_blocking(crate::sim::InstallerKey::generate)
        .await
        .unwrap()
        .unwrap();
    let other_key = other.sign_as(&claims(), &good_kid).unwrap();
    let valid = key.sign_as(&claims(), &good_kid).unwrap();
    let mut tampered: Vec<&str> = valid.split('.').collect();
    let evil = set(claims(), &["app", "installationId"], json!("someone-else"));
    let evil_payload = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(evil.to_string())
    };
    tampered[1] = &evil_payload;
    let tampered = tampered.join(".");
    let cases = [
        ("garbage", "malformed", "not.a.jwt".to_string()),
        ("no kid", "no kid", no_kid),
        ("RS512", "RS256", rs512),
        ("HS256 with the public key as secret", "RS256", hs256),
        ("unknown kid", "not a known Forge key", unknown_kid),
        ("another keypair", "signature", other_key),
        ("tampered payload", "signature", tampered),
    ];
    for (name, why, token) in cases {
        let error = verifier.verify(&token).await.err();
        assert!(
            error.as_ref().is_some_and(|e| e.0.contains(why)),
            "{name}: {error:?}"
        );
    }
    assert!(
        verifier.verify(&valid).await.is_ok(),
        "the control token verifies"
    );
}

#[test]
fn the_system_token_exp_is_read_from_its_payload() {
    use base64::Engine as _;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let token = format!("{}.{}.sig", b64("{}"), b64(r#"{"exp":1700000000}"#));
    assert_eq!(system_token_exp(&token), Some(1_700_000_000_000));
    for opaque in ["opaque", "a.b.c", &format!("x.{}.y", b64(r#"{"iat":1}"#))] {
        assert_eq!(system_token_exp(opaque), None, "{opaque}");
    }
}
