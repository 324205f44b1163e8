//! The served OpenAPI document tells the truth: every answer a route gives is declared for it,
//! and every other method on a known path is 405 with `Allow`.

use serde_json::Value;
use signup_bridge::http::table;

use crate::helpers::*;

async fn document(app: &TestApp) -> Value {
    app.client
        .get(format!("{}/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// One request shape sent to every route.
struct Probe {
    name: &'static str,
    token: bool,
    content_type: Option<&'static str>,
    body: String,
}

fn probes() -> Vec<Probe> {
    let probe = |name, token, content_type, body: &str| Probe {
        name,
        token,
        content_type,
        body: body.to_string(),
    };
    vec![
        probe("bare", false, None, ""),
        probe(
            "valid",
            true,
            Some("application/json"),
            r#"{"email":"schema@example.com"}"#,
        ),
        probe("bad json", true, Some("application/json"), "{"),
        probe(
            "bad email",
            true,
            Some("application/json"),
            r#"{"email":"0"}"#,
        ),
        probe(
            "form",
            true,
            Some("application/x-www-form-urlencoded"),
            "email=form%40example.com",
        ),
        probe("text", true, Some("text/plain"), "hello"),
        probe(
            "no token",
            false,
            Some("application/json"),
            r#"{"email":"a@b.co"}"#,
        ),
        Probe {
            name: "too large",
            token: true,
            content_type: Some("application/json"),
            body: format!(r#"{{"email":"a@b.co","pad":"{}"}}"#, "x".repeat(70_000)),
        },
    ]
}

#[tokio::test]
async fn every_answer_a_route_gives_is_declared_in_the_document() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let stored = id_of(
        app.post_json(&signup_body("stored@example.com", "Stored"))
            .await,
    )
    .await;
    let mut undeclared = Vec::new();
    for route in table() {
        let method = route.method.as_str().to_lowercase();
        let operation = &doc["paths"][route.path][&method];
        let declared = operation["responses"].as_object().unwrap();
        for id in [stored.as_str(), "no-such-signup"] {
            let path = route.path.replace("{id}", id);
            for probe in probes() {
                let mut request = app
                    .client
                    .request(
                        route.method.as_str().parse().unwrap(),
                        format!("{}{path}", app.address),
                    )
                    .body(probe.body.clone());
                if probe.token {
                    request = request.bearer_auth(app.token());
                }
                if let Some(content_type) = probe.content_type {
                    request = request.header("Content-Type", content_type);
                }
                let status = request.send().await.unwrap().status();
                if !declared.contains_key(status.as_str()) {
                    undeclared.push(format!(
                        "{} {} answered {} to the {:?} probe",
                        route.method,
                        route.path,
                        status.as_u16(),
                        probe.name
                    ));
                }
            }
        }
    }
    undeclared.dedup();
    assert!(
        undeclared.is_empty(),
        "answers the document does not declare:\n{}",
        undeclared.join("\n")
    );
    app.stop().await;
}

#[tokio::test]
async fn other_methods_on_a_known_path_are_405_with_allow() {
    let app = spawn_app().await;
    let table = table();
    for route in &table {
        let path = route.path.replace("{id}", "x");
        let methods: Vec<&str> = table
            .iter()
            .filter(|r| r.path == route.path)
            .map(|r| r.method.as_str())
            .collect();
        let other = if methods.contains(&"PUT") {
            "DELETE"
        } else {
            "PUT"
        };
        let response = app
            .client
            .request(other.parse().unwrap(), format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{other} {path}");
        let allow = response.headers()["allow"].to_str().unwrap().to_string();
        let mut allowed: Vec<&str> = allow.split(", ").collect();
        allowed.sort_unstable();
        let mut want = methods.clone();
        want.sort_unstable();
        assert_eq!(allowed, want, "{path}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "method_not_allowed");
    }
    app.stop().await;
}

super::backends::also_on_postgres!(
    every_answer_a_route_gives_is_declared_in_the_document,
    other_methods_on_a_known_path_are_405_with_allow
);
