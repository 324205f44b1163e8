//! The second hardening round's load rules, table-driven: `whsec_` keys counted decoded,
//! `tolerance` ≤ 1 h, `server.max_body_bytes` ≤ 10 MiB, and config errors that say where and
//! print no secret.

use super::load_from_text;

const TENANT: &str = "[[tenants]]\nid = \"t\"\nbase_url = \"https://t.atlassian.net\"\n\
                      auth = { type = \"basic\", email = \"bot@t.test\", api_token = \"api-token-value\" }\n";

fn load(text: &str, env: &[(&str, &str)]) -> Result<(), String> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    load_from_text(text, "bridge.toml", &move |name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .map(drop)
    .map_err(|e| e.to_string())
}

fn source(extra: &str) -> String {
    format!("{TENANT}[[sources]]\nid = \"s\"\ntenant = \"t\"\n{extra}\n")
}

#[test]
fn whsec_keys_tolerance_and_body_limits() {
    // 16 and 15 bytes, base64-encoded: the decoded length counts, not the string's.
    let whsec16 = "whsec_MDEyMzQ1Njc4OWFiY2RlZg==";
    let whsec15 = "whsec_MDEyMzQ1Njc4OWFiY2Rl";
    let cases = [
        (
            source(&format!(
                "verify = \"standard-webhooks\"\nsecret = \"{whsec16}\""
            )),
            None,
        ),
        (
            source(&format!(
                "verify = \"standard-webhooks\"\nsecret = \"{whsec15}\""
            )),
            Some("sources[0].secret"),
        ),
        (
            source("verify = \"stripe\"\nsecret = \"0123456789abcdef\"\ntolerance = \"1h\""),
            None,
        ),
        (
            source("verify = \"stripe\"\nsecret = \"0123456789abcdef\"\ntolerance = \"61m\""),
            Some("sources[0].tolerance"),
        ),
        ("[server]\nmax_body_bytes = 10485760".to_string(), None),
        (
            "[server]\nmax_body_bytes = 10485761".to_string(),
            Some("server.max_body_bytes"),
        ),
    ];
    for (text, key) in cases {
        match (load(&text, &[]), key) {
            (Ok(()), None) => {}
            (Err(e), Some(key)) => assert!(e.contains(&format!("`{key}`")), "{text}: {e}"),
            (got, _) => panic!("{text}: {got:?}"),
        }
    }
}

#[test]
fn the_bounds_on_requests_in_flight_are_from_1_to_a_million() {
    let cases = [
        ("[server]\nmax_intake_in_flight = 1", None),
        ("[server]\nmax_intake_in_flight = 1000000", None),
        (
            "[server]\nmax_intake_in_flight = 0",
            Some("server.max_intake_in_flight"),
        ),
        (
            "[server]\nmax_intake_in_flight = 1000001",
            Some("server.max_intake_in_flight"),
        ),
        ("[delivery]\nmax_inline_waiters = 1", None),
        (
            "[delivery]\nmax_inline_waiters = 0",
            Some("delivery.max_inline_waiters"),
        ),
        (
            "[delivery]\nmax_inline_waiters = 1000001",
            Some("delivery.max_inline_waiters"),
        ),
    ];
    for (text, key) in cases {
        match (load(text, &[]), key) {
            (Ok(()), None) => {}
            (Err(e), Some(key)) => assert!(e.contains(&format!("`{key}`")), "{text}: {e}"),
            (got, _) => panic!("{text}: {got:?}"),
        }
    }
}

#[test]
fn errors_say_where_and_print_no_secret() {
    // (text, env, the start of the error, what it must not contain)
    type Case = (
        String,
        Vec<(&'static str, &'static str)>,
        &'static str,
        &'static str,
    );
    let cases: [Case; 6] = [
        // A syntax error on a secret's line: the position and key, never the line.
        (
            source("secret = \"unterminated-secret-value"),
            vec![],
            "bridge.toml:8:",
            "unterminated-secret-value",
        ),
        // A secret of the wrong type: its literal is not quoted back.
        (
            source("secret = 1234567890123"),
            vec![],
            "bridge.toml:8:1: key `sources[0].secret`",
            "1234567890123",
        ),
        // A value from `${ENV}` that does not parse.
        (
            "[server]\nmax_body_bytes = \"${BODY}\"".to_string(),
            vec![("BODY", "value-from-the-environment")],
            "bridge.toml:2:1: key `server.max_body_bytes`",
            "value-from-the-environment",
        ),
        // An environment override: no line, and not printed either.
        (
            String::new(),
            vec![("SIGNUP_BRIDGE_LISTEN", "not-an-address-from-env")],
            "bridge.toml: key `server.listen`",
            "not-an-address-from-env",
        ),
        // A URL's password.
        (
            "[database]\nurl = \"mysql://bridge:hunter2-password@db/x\"".to_string(),
            vec![],
            "bridge.toml:2:1: key `database.url`",
            "hunter2-password",
        ),
        // A key the validation refuses, found at its line.
        (
            "[delivery]\n\nmax_attempts = 0".to_string(),
            vec![],
            "bridge.toml:3:1: key `delivery.max_attempts`",
            "\n",
        ),
    ];
    for (text, env, starts, hidden) in cases {
        let e = load(&text, &env).expect_err(&text);
        assert!(e.starts_with(starts), "{text}: {e}");
        assert!(!e.contains(hidden), "{text}: {e}");
    }
}

#[test]
fn a_remote_postgres_without_verified_tls_starts_with_a_warning() {
    let remote = "[database]\nurl = \"postgres://bridge@db.example.com/bridge?sslmode=require\"";
    let config = load_from_text(remote, "bridge.toml", &|_| None).unwrap();
    let warnings = config.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("db.example.com") && w.contains("not verified")),
        "{warnings:?}"
    );
    let verified = remote.replace("sslmode=require", "sslmode=verify-full");
    let config = load_from_text(&verified, "bridge.toml", &|_| None).unwrap();
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    let plaintext = remote.replace("sslmode=require", "sslmode=disable");
    let e = load(&plaintext, &[]).unwrap_err();
    assert!(
        e.contains("database.url") && e.contains("allow_plaintext"),
        "{e}"
    );
    let allowed = format!("{plaintext}\nallow_plaintext = true");
    assert_eq!(load(&allowed, &[]), Ok(()));
}
