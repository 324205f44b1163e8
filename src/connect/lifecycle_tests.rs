use super::*;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

fn target() -> RequestTarget<'static> {
    RequestTarget {
        method: "POST",
        path: "/lifecycle/enabled",
        query: "",
    }
}

fn hs(claims: serde_json::Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[test]
fn install_token_uses_are_keyed_by_jti_else_by_token() {
    let claims = |jti: Option<&str>| Claims {
        exp: 1_000,
        jti: jti.map(str::to_string),
        qsh: None,
    };
    let leeway = Duration::from_secs(60);
    let with_jti = install_token_use("t1", "ck", &claims(Some("j")), leeway);
    assert_eq!(with_jti.kind, INSTALL_TOKEN_KIND);
    assert_eq!(with_jti.expires_at, 1_060_000);
    // The same jti of the same issuer in another token is the same use …
    assert_eq!(
        install_token_use("t2", "ck", &claims(Some("j")), leeway),
        with_jti
    );
    // … but not from another issuer, nor another jti.
    assert_ne!(
        install_token_use("t1", "ck2", &claims(Some("j")), leeway).key,
        with_jti.key
    );
    assert_ne!(
        install_token_use("t1", "ck", &claims(Some("k")), leeway).key,
        with_jti.key
    );
    // Without a jti, each token is its own use, named by a digest, never by itself.
    let plain = install_token_use("t1", "ck", &claims(None), leeway);
    assert_ne!(
        plain.key,
        install_token_use("t2", "ck", &claims(None), leeway).key
    );
    assert_eq!(plain.key.len(), 64);
    assert!(!plain.key.contains("t1"));
}

#[test]
fn audience_forms() {
    let one = Audience::One("https://b.example.com/".into());
    assert!(one.contains("https://b.example.com"));
    let many = Audience::Many(vec!["x".into(), "https://b.example.com".into()]);
    assert!(many.contains("https://b.example.com/"));
    assert!(!Audience::One("https://evil.example.com".into()).contains("https://b.example.com"));
}

#[test]
fn shared_secret_tokens() {
    let secret = Secret::new("s3cret");
    let exp = crate::domain::now_ms() / 1000 + 60;
    let good_qsh = qsh::qsh("POST", "/lifecycle/enabled", "");
    let ok = hs(json!({"iss": "ck", "exp": exp, "qsh": good_qsh}), "s3cret");
    let leeway = Duration::from_secs(0);
    assert_eq!(
        verify_shared_secret(&ok, "ck", &secret, leeway, &target()),
        Ok(())
    );
    let cases = [
        hs(json!({"iss": "ck", "exp": exp, "qsh": good_qsh}), "other"),
        hs(
            json!({"iss": "other", "exp": exp, "qsh": good_qsh}),
            "s3cret",
        ),
        hs(json!({"iss": "ck", "exp": exp, "qsh": "00"}), "s3cret"),
        hs(json!({"iss": "ck", "exp": exp}), "s3cret"),
        hs(
            json!({"iss": "ck", "exp": exp - 120, "qsh": good_qsh}),
            "s3cret",
        ),
        hs(json!({"iss": "ck", "qsh": good_qsh}), "s3cret"),
        "not-a-token".to_string(),
    ];
    for token in cases {
        assert!(verify_shared_secret(&token, "ck", &secret, leeway, &target()).is_err());
    }
}
