//! The three Forge routes: FIT rejections (401, nothing stored), replays, event bodies, the
//! routes off without `[forge]`, and the CLI's view of Forge installations.

use serde_json::{Value, json};
use signup_bridge::sim::{fit_claims, mint_fit};

use super::*;
use crate::helpers::{binary, spawn_app};

const INSTALLATION: &str = "ari:cloud:ecosystem::installation/routes-1";

fn claims(app: &TestApp) -> Value {
    let origin = app.sim.control_url.clone();
    fit_claims(
        APP_ID,
        INSTALLATION,
        CLOUD,
        &format!("{origin}/ex/jira/{CLOUD}"),
        &origin,
        "DEVELOPMENT",
    )
}

async fn call(app: &TestApp, route: &str, fit: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/forge/{route}", app.address))
        .json(body);
    if let Some(fit) = fit {
        request = request.bearer_auth(fit);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn every_fit_rejection_is_401_invalid_token_and_stores_nothing() {
    let app = spawn_forge_app(|c| c.forge.environments = vec!["DEVELOPMENT".into()]).await;
    let event = json!({"eventType": "avi:forge:installed:app"});
    let mut tokens = vec![None, Some("not-a-jwt".to_string())];
    let mutations: [(&str, Value); 5] = [
        ("aud", json!("ari:cloud:ecosystem::app/someone-else")),
        ("iss", json!("not-forge")),
        ("exp", json!(1)),
        ("nbf", json!(4_102_444_800_i64)),
        (
            "app",
            json!({"id": APP_ID, "installationId": INSTALLATION, "apiBaseUrl": "https://evil.example.com/x", "environment": {"type": "DEVELOPMENT"}}),
        ),
    ];
    for (claim, value) in mutations {
        let mut c = claims(&app);
        c[claim] = value;
        tokens.push(Some(mint_fit(&c).await.unwrap()));
    }
    let mut production = claims(&app);
    production["app"]["environment"]["type"] = json!("PRODUCTION");
    tokens.push(Some(mint_fit(&production).await.unwrap()));
    for route in ["lifecycle", "refresh", "uninstall"] {
        for token in &tokens {
            let response = call(&app, route, token.as_deref(), &event).await;
            assert_eq!(response.status(), 401, "{route}");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["code"], "invalid_token");
        }
    }
    assert!(forge_installations(&app).await.is_empty(), "nothing stored");
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_fit_is_refused() {
    let app = spawn_forge_app(|_| {}).await;
    let fit = mint_fit(&claims(&app)).await.unwrap();
    let first = call(&app, "refresh", Some(&fit), &json!({})).await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
    for route in ["refresh", "lifecycle"] {
        let again = call(&app, route, Some(&fit), &json!({})).await;
        assert_eq!(again.status(), 401, "{route}");
    }
    app.stop().await;
}

#[tokio::test]
async fn wrapped_bare_and_unknown_events_are_all_answered_200() {
    let app = spawn_forge_app(|_| {}).await;
    let wrapped = forge_call(&app, CLOUD, "lifecycle", |t| t.wrapped = true).await;
    assert_eq!(wrapped.status, 200);
    let bare = forge_call(&app, OTHER_CLOUD, "lifecycle", |_| {}).await;
    assert_eq!(bare.status, 200);
    let unknown = forge_call(&app, CLOUD, "lifecycle", |t| {
        t.event_type = Some("avi:jira:created:issue".into())
    })
    .await;
    assert_eq!(unknown.status, 200);
    let upgraded = forge_call(&app, CLOUD, "lifecycle", |t| {
        t.event_type = Some("avi:forge:upgraded:app".into());
        t.wrapped = true;
    })
    .await;
    assert_eq!(upgraded.status, 200);
    let listed = forge_installations(&app).await;
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|i| i.state == "installed" && i.token_expires_at.is_some())
    );
    app.stop().await;
}

#[tokio::test]
async fn forge_routes_are_404_without_forge_config() {
    let app = spawn_app().await;
    for route in ["lifecycle", "refresh", "uninstall"] {
        let response = call(&app, route, Some("x.y.z"), &json!({})).await;
        assert_eq!(response.status(), 404, "{route}");
    }
    app.stop().await;
}

#[tokio::test]
async fn installations_list_shows_forge_installations_without_their_token() {
    let app = spawn_forge_app(|_| {}).await;
    forge_call(&app, CLOUD, "lifecycle", |_| {}).await;
    let response = forge_signup(&app, FORGE_SOURCE, "forge.cli@example.com").await;
    assert_eq!(response.status(), 201);
    let token = forge_creates(&app, CLOUD)[0]
        .authorization
        .clone()
        .unwrap()
        .trim_start_matches("Bearer ")
        .to_string();
    let config = app.dir.path().join("cli.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{}\"\n[server]\npublic_url = \"https://bridge.acme.test/\"\n",
            app.config.database.url
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(binary())
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let text = run(&["installations", "list"]);
    let json = run(&["installations", "list", "--json"]);
    assert!(
        !text.contains(&token) && !json.contains(&token),
        "the token was printed"
    );
    let line = text.lines().find(|l| l.contains("\tforge\t")).expect(&text);
    assert!(
        line.starts_with("ari:cloud:ecosystem::installation/") && line.contains("\tinstalled\t"),
        "{line}"
    );
    let forge: Value =
        serde_json::from_str(json.lines().find(|l| l.contains("forge")).unwrap()).unwrap();
    assert_eq!(forge["kind"], "forge");
    assert_eq!(forge["state"], "installed");
    assert!(
        forge["tokenExpiresAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{forge}"
    );
    assert!(forge["installationId"].as_str().is_some());
    let manifest = run(&["forge-manifest"]);
    assert!(
        manifest.contains("baseUrl: https://bridge.acme.test\n"),
        "{manifest}"
    );
    app.stop().await;
}

crate::backends::also_on_postgres!(
    every_fit_rejection_is_401_invalid_token_and_stores_nothing,
    a_replayed_fit_is_refused,
    wrapped_bare_and_unknown_events_are_all_answered_200,
    forge_routes_are_404_without_forge_config,
    installations_list_shows_forge_installations_without_their_token
);
