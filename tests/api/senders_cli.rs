//! Senders through the real binary: `signup-bridge sign` output accepted by `serve`, logs that
//! never hold a query secret or a signature header value, and sender config errors (exit 2).

use super::helpers::*;
use super::process::{BridgeProcess, run_cli, write_config};
use super::vendors::{HEADER_NAME, PLAIN_SECRET, WHSEC, sign};
use signup_bridge::config::VerifyScheme;

fn sources_toml() -> String {
    format!(
        r#"
[[sources]]
id = "typeform"
tenant = "{TENANT}"
verify = "typeform"
secret = "{PLAIN_SECRET}"

[[sources]]
id = "mailchimp"
tenant = "{TENANT}"
verify = "query"
secrets = ["{PLAIN_SECRET}"]

[[sources]]
id = "zapier"
tenant = "{TENANT}"
verify = "header"
header = "{HEADER_NAME}"
secret = "{PLAIN_SECRET}"

[[sources]]
id = "hubspot"
tenant = "{TENANT}"
verify = "hubspot-v3"
secret = "{PLAIN_SECRET}"
[sources.fields]
email = "$.properties.email.value"

[[sources]]
id = "svix"
tenant = "{TENANT}"
verify = "standard-webhooks"
secrets = ["{WHSEC}"]
tolerance = "2m"
[sources.fields]
email = "$.data.email"
"#
    )
}

fn fixture_path(name: &str) -> String {
    format!(
        "{}/tests/fixtures/senders/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The single-quoted words of a curl line: URL, headers, `@file`.
fn quoted(line: &str) -> Vec<String> {
    line.split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn sign_output_is_accepted_by_serve_for_each_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    let config = write_config(dir.path(), &sim.base_url, "", &sources_toml());
    let bridge = BridgeProcess::start(&config).await;
    let svix_body = dir.path().join("svix.json");
    std::fs::write(&svix_body, r#"{"data":{"email":"cli.svix@example.com"}}"#).unwrap();
    let cases = [
        ("typeform", fixture_path("typeform.json")),
        ("hubspot", fixture_path("hubspot.json")),
        ("mailchimp", fixture_path("mailchimp.form")),
        ("svix", svix_body.display().to_string()),
    ];
    let client = http_client();
    for (id, body) in cases {
        let target = format!("{}/webhooks/signup/{id}", bridge.address);
        let (code, out, err) = run_cli(
            &config,
            &["sign", "--source", id, "--body", &body, "--curl", &target],
        );
        assert_eq!(code, 0, "{id}: {err}");
        assert!(out.starts_with("curl -sS -i -X POST '"), "{id}: {out}");
        let words = quoted(out.trim());
        let mut request = client.post(&words[0]);
        for header in &words[1..words.len() - 1] {
            let (name, value) = header.split_once(": ").unwrap();
            request = request.header(name, value);
        }
        assert_eq!(words.last().unwrap(), &format!("@{body}"));
        let response = request
            .body(std::fs::read(&body).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{id}: {out}");
    }
    // Without --curl: one `Name: value` line per header (the URL for a query source).
    let (code, out, _) = run_cli(
        &config,
        &[
            "sign",
            "--source",
            "typeform",
            "--body",
            &fixture_path("typeform.json"),
        ],
    );
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .all(|l| l.starts_with("Typeform-Signature: sha256=")),
        "{out}"
    );
    let (_, out, _) = run_cli(
        &config,
        &[
            "sign",
            "--source",
            "zapier",
            "--body",
            &fixture_path("typeform.json"),
        ],
    );
    assert_eq!(out.trim(), format!("{HEADER_NAME}: {PLAIN_SECRET}"));
    let (_, out, _) = run_cli(
        &config,
        &[
            "sign",
            "--source",
            "mailchimp",
            "--body",
            &fixture_path("mailchimp.form"),
        ],
    );
    assert!(
        out.trim().starts_with("URL: http://")
            && out
                .trim()
                .ends_with(&format!("/webhooks/signup/mailchimp?key={PLAIN_SECRET}")),
        "{out}"
    );
    let (code, _, err) = run_cli(
        &config,
        &["sign", "--source", "nobody", "--body", &body_of(&svix_body)],
    );
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run_cli(&config, &["token", "--source", "typeform"]);
    assert_eq!(code, 2, "{err}");
    bridge.terminate().await;
    sim.stop().await;
}

fn body_of(path: &std::path::Path) -> String {
    path.display().to_string()
}

#[tokio::test]
async fn logs_never_hold_a_query_secret_or_a_signature_header_value() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(sim_config()).await;
    let config = write_config(dir.path(), &sim.base_url, "", &sources_toml());
    let bridge = BridgeProcess::start_with_env(&config, &[("SIGNUP_BRIDGE_LOG", "debug")]).await;
    let client = http_client();
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut sent = vec![PLAIN_SECRET.to_string(), "wrong-query-key-0123".to_string()];
    let base = &bridge.address;
    // Mailchimp: URL validation and a subscribe, with the right and a wrong key.
    for key in [PLAIN_SECRET, "wrong-query-key-0123"] {
        let url = format!("{base}/webhooks/signup/mailchimp?key={key}");
        client.get(&url).send().await.unwrap();
        client
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(std::fs::read(fixture_path("mailchimp.form")).unwrap())
            .send()
            .await
            .unwrap();
    }
    // Typeform and HubSpot: a good signature, a wrong one, and a bad payload.
    for (id, scheme, file) in [
        ("typeform", VerifyScheme::Typeform, "typeform.json"),
        ("hubspot", VerifyScheme::HubspotV3, "hubspot.json"),
    ] {
        let url = format!("{base}/webhooks/signup/{id}");
        let body = std::fs::read(fixture_path(file)).unwrap();
        for (secret, body) in [
            (PLAIN_SECRET, body.clone()),
            ("wrong-secret-0123456789", body),
            (PLAIN_SECRET, b"[1]".to_vec()),
        ] {
            let delivery = sign(scheme, secret, &body, &url, at);
            let mut request = client.post(&url).header("Content-Type", "application/json");
            for (name, value) in &delivery.headers {
                sent.push(value.clone());
                request = request.header(name, value);
            }
            request.body(body).send().await.unwrap();
        }
    }
    let (status, logs) = bridge.terminate_with_logs().await;
    assert!(status.success());
    assert!(
        logs.iter()
            .any(|l| l.contains("/webhooks/signup/mailchimp")),
        "request paths are logged"
    );
    for line in &logs {
        assert!(!line.contains("key="), "a query string in: {line}");
        for value in &sent {
            assert!(!line.contains(value.as_str()), "{value} in: {line}");
        }
    }
    assert_eq!(
        sim.state()
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        3
    );
    sim.stop().await;
}

#[test]
fn sender_config_errors_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let source = |lines: &str| format!("[[sources]]\nid = \"s\"\ntenant = \"{TENANT}\"\n{lines}\n");
    let cases = [
        (
            source(
                "verify = \"typeform\"\nsecret = \"0123456789abcdef\"\n[sources.fields]\nemail = \"$.a[\"",
            ),
            "sources[0].fields.email",
        ),
        (
            source("verify = \"tally\"\nsecret = \"too-short\""),
            "sources[0].secret",
        ),
        (
            source("verify = \"webflow\"\nsecret = \"0123456789abcdef\""),
            "sources[0].fields.email",
        ),
        (
            source("verify = \"header\"\nsecret = \"0123456789abcdef\""),
            "sources[0].header",
        ),
        (source("verify = \"query\""), "sources[0].secrets"),
        (
            source(
                "verify = \"stripe\"\njwks_url = \"https://keys.example.com/jwks\"\naudience = \"a\"",
            ),
            "sources[0]",
        ),
        (
            source("verify = \"svix\"\nsecret = \"0123456789abcdef\""),
            "verify",
        ),
        (
            source("verify = \"standard-webhooks\"\nsecrets = [\"whsec_not*base64*at*all\"]"),
            "sources[0].secrets[0]",
        ),
        (
            source(
                "verify = \"tally\"\nsecret = \"0123456789abcdef\"\n[sources.fields]\nemial = \"$.e\"",
            ),
            "emial",
        ),
    ];
    for (extra, key) in cases {
        let config = write_config(dir.path(), "http://127.0.0.1:1", "", &extra);
        let (code, out, err) = run_cli(&config, &["check-config"]);
        assert_eq!(code, 2, "{extra}: {out}");
        assert!(err.contains(key), "{extra}: {err}");
    }
    let fine = source(
        "verify = \"webflow\"\nsecret = \"0123456789abcdef\"\ntolerance = \"90s\"\n[sources.fields]\nemail = \"$.payload.data.Email\"",
    );
    let config = write_config(dir.path(), "http://127.0.0.1:1", "", &fine);
    let (code, out, err) = run_cli(&config, &["check-config"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("0123456789abcdef") && out.contains("verify = \"webflow\""),
        "{out}"
    );
}
