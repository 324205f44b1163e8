//! The logs of a full run (intake, auth failures, JSM errors, a Connect install, a Forge install
//! and trigger with their FITs and system tokens) never contain a secret or a token, and emails
//! are masked at info level and above — in both log formats.

use base64::Engine as _;
use serde_json::Value;
use signup_bridge::sim::{
    ForgeTrigger, InstallCommand, fit_claims, mint_fit, send_forge, send_lifecycle,
};

use super::helpers::*;
use super::process::{BridgeProcess, write_config};

const SHARED_SECRET: &str = "connect-shared-secret-7f3a9c1e5b2d4068";
const SHOP_SECRET: &str = "shop-source-secret-0123456789abcdef";
const CLIENT_KEY: &str = "client-logs";
const OAUTH_SECRET: &str = "oauth-client-secret-5e8d2b7a91c4";
const FORGE_APP: &str = "ari:cloud:ecosystem::app/0000aaaa-0000-4000-8000-000000000001";
const FORGE_CLOUD: &str = "cloud-logs";

async fn full_run(format: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(signup_bridge::sim::SimConfig {
        oauth_clients: vec![("oauth-client".into(), OAUTH_SECRET.into())],
        ..sim_config()
    })
    .await;
    sim.state()
        .push_fault(fault(Some(2), CUSTOMER_PATH, status(500, None)));
    let control = &sim.control_url;
    let extra = format!(
        "\n[[tenants]]\nid = \"oauthco\"\nbase_url = \"{base}\"\n\
         auth = {{ type = \"oauth_client_credentials\", client_id = \"oauth-client\", \
         client_secret = \"{OAUTH_SECRET}\", token_url = \"{control}/_sim/oauth/token\" }}\n\
         \n[connect]\ninstall_keys_url = \"{control}\"\n\
         \n[[sources]]\nid = \"shop\"\ntenant = \"{CLIENT_KEY}\"\nsecret = \"{SHOP_SECRET}\"\n\
         \n[[sources]]\nid = \"oauthsrc\"\ntenant = \"oauthco\"\nsecret = \"{SHOP_SECRET}\"\n\
         \n[[sources]]\nid = \"forgesrc\"\ntenant = \"{FORGE_CLOUD}\"\nsecret = \"{SHOP_SECRET}\"\n\
         \n[forge]\napp_id = \"{FORGE_APP}\"\njwks_url = \"{control}/_sim/forge/jwks.json\"\n",
        // OAuth 2.0 tokens are accepted only under the API gateway (SPEC §17).
        base = sim.gateway_url()
    );
    let config = write_config(dir.path(), &sim.base_url, "inline_wait = \"3s\"", &extra);
    let bridge = BridgeProcess::start_with_env(
        &config,
        &[
            ("SIGNUP_BRIDGE_LOG", "debug"),
            ("SIGNUP_BRIDGE_LOG_FORMAT", format),
        ],
    )
    .await;
    let install = send_lifecycle(
        sim.state(),
        &InstallCommand {
            bridge_url: bridge.address.clone(),
            client_key: Some(CLIENT_KEY.into()),
            shared_secret: Some(SHARED_SECRET.into()),
            event: Some("installed".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(install.status, 204);

    let client = http_client();
    let mut tokens = Vec::new();
    let mut emails = Vec::new();
    let mut send = async |token: String, email: &str| {
        tokens.push(token.clone());
        emails.push(email.to_string());
        client
            .post(format!("{}/webhooks/signup", bridge.address))
            .bearer_auth(token)
            .json(&signup_body(email, "Log Test"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    // Two 500s then created: JSM errors are logged on the way.
    assert_eq!(
        send(token_for(SOURCE, SECRET), "website.user@example.com").await,
        201
    );
    assert_eq!(
        send(token_for(SOURCE, "a-wrong-secret"), "forged@example.com").await,
        401
    );
    assert_eq!(
        send(token_for("stranger", SECRET), "stranger@example.com").await,
        401
    );
    assert_eq!(
        send(token_for("shop", SHOP_SECRET), "shop.user@example.com").await,
        201
    );
    // Forge: an install with a system token the simulator issued, a customer created with it,
    // and a scheduled trigger whose FIT and token the test knows.
    let forge = ForgeTrigger {
        bridge_url: bridge.address.clone(),
        endpoint: "lifecycle".into(),
        app_id: Some(FORGE_APP.into()),
        cloud_id: Some(FORGE_CLOUD.into()),
        ..ForgeTrigger::default()
    };
    let installed = send_forge(sim.state(), &forge).await.unwrap();
    assert_eq!(installed.status, 200);
    assert_eq!(
        send(token_for("forgesrc", SHOP_SECRET), "forge.user@example.com").await,
        201
    );
    let fit = mint_fit(&fit_claims(
        FORGE_APP,
        &installed.installation_id,
        FORGE_CLOUD,
        &installed.api_base_url,
        &sim.control_url,
        "DEVELOPMENT",
    ))
    .await
    .unwrap();
    let known_token = format!(
        "{}.{}.c2lnbmF0dXJlLW9mLXRoZS1zeXN0ZW0tdG9rZW4",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!(r#"{{"exp":{},"sub":"logs"}}"#, 4_102_444_800_i64))
    );
    let refreshed = client
        .post(format!("{}/forge/refresh", bridge.address))
        .bearer_auth(&fit)
        .header("x-forge-oauth-system", &known_token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let replayed = client
        .post(format!("{}/forge/refresh", bridge.address))
        .bearer_auth(&fit)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 401);
    tokens.push(fit);
    tokens.push(known_token);
    for request in sim.state().requests() {
        if let Some(auth) = request
            .authorization
            .filter(|_| request.path.starts_with("/ex/jira/"))
        {
            tokens.push(auth.trim_start_matches("Bearer ").to_string());
        }
    }
    assert!(
        tokens.len() >= 7,
        "the sim-issued system token is among the checked tokens"
    );
    let (status, logs) = bridge.terminate_with_logs().await;
    assert!(status.success());
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{JSM_EMAIL}:{JSM_TOKEN}"));
    let mut secrets: Vec<String> = [
        SECRET,
        SHOP_SECRET,
        SHARED_SECRET,
        JSM_TOKEN,
        basic.as_str(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    secrets.extend(tokens);
    (logs, secrets, emails)
}

fn level_at_least_info(line: &str) -> bool {
    match serde_json::from_str::<Value>(line) {
        Ok(json) => matches!(json["level"].as_str(), Some("INFO" | "WARN" | "ERROR")),
        Err(_) => [" INFO ", " WARN ", " ERROR "]
            .iter()
            .any(|l| line.contains(l)),
    }
}

#[tokio::test]
async fn logs_never_hold_secrets_or_tokens_and_mask_emails() {
    for format in ["json", "text"] {
        let (logs, secrets, emails) = full_run(format).await;
        assert!(
            logs.len() > 10,
            "{format}: too few lines to mean anything: {logs:?}"
        );
        assert!(
            logs.iter().any(|l| l.contains("w***@example.com")),
            "{format}: no masked email logged"
        );
        assert!(
            logs.iter().any(|l| l.contains("installed")),
            "{format}: install not logged"
        );
        assert!(
            logs.iter().any(|l| l.contains("Forge scheduled trigger")),
            "{format}: the Forge trigger not logged"
        );
        for line in &logs {
            for secret in &secrets {
                assert!(
                    !line.contains(secret.as_str()),
                    "{format}: a secret or token in: {line}"
                );
            }
            if level_at_least_info(line) {
                for email in &emails {
                    assert!(
                        !line.contains(email.as_str()),
                        "{format}: unmasked email in: {line}"
                    );
                }
            }
        }
    }
}
