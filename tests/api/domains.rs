//! Who may sign up (a source's email-domain policy) and which organizations a domain joins
//! (domain rules), SPEC §20.

use std::time::Duration;

use serde_json::Value;
use signup_bridge::config::{IdOrKey, OrganizationRule};

use super::helpers::*;

/// A source id of this file's own, so the metric counts hold while other tests count too.
const POLICY_SOURCE: &str = "domain-policy-source";
const POLICY_SECRET: &str = "domain-policy-secret-0123456789abcdef";

async fn metrics_text(app: &TestApp) -> String {
    let url = format!("{}/metrics", app.address);
    app.client
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn refusals(text: &str, reason: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with("signup_bridge_email_domain_refusals_total"))
        .filter(|l| l.contains(&format!("source=\"{POLICY_SOURCE}\"")))
        .filter(|l| l.contains(&format!("reason=\"{reason}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn post_as_policy_source(app: &TestApp, email: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(token_for(POLICY_SOURCE, POLICY_SECRET))
        .header("Idempotency-Key", format!("k-{email}"))
        .json(&signup_body(email, "Policy User"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refused_domains_answer_422_store_nothing_and_are_counted_by_reason() {
    let app = spawn_app_with(sim_config(), |c| {
        let mut s = source(POLICY_SOURCE, POLICY_SECRET, TENANT);
        s.allowed_email_domains =
            vec!["acme.com".into(), "*.acme.com".into(), "yopmail.com".into()];
        s.blocked_email_domains = vec!["*.contractors.acme.com".into()];
        s.block_disposable_email = true;
        c.sources.push(s);
        c.sources.push({
            let mut open = source("disposable-only", POLICY_SECRET, TENANT);
            open.block_disposable_email = true;
            open
        });
    })
    .await;
    let before = metrics_text(&app).await;
    let cases = [
        ("ann@other.org", "not_allowed"),
        ("bob@x.contractors.acme.com", "blocked"),
    ];
    for (email, reason) in cases {
        let response = post_as_policy_source(&app, email).await;
        assert_eq!(response.status(), 422, "{email}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["code"], "email_domain_not_allowed",
            "{email} ({reason})"
        );
    }
    // Disposable, on a source without an allow-list.
    let response = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(token_for("disposable-only", POLICY_SECRET))
        .json(&signup_body("temp@mailinator.com", "Temp"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(
        app.stored_signups().await,
        0,
        "a refused signup stores nothing"
    );
    assert!(app.creates().is_empty());

    let after = metrics_text(&app).await;
    for reason in ["not_allowed", "blocked"] {
        assert_eq!(
            refusals(&after, reason) - refusals(&before, reason),
            1.0,
            "{reason}"
        );
    }
    assert!(
        after.contains("source=\"disposable-only\"") && after.contains("reason=\"disposable\"")
    );

    // Allowed: the domain itself, a subdomain, and a disposable domain the allow-list names.
    for email in ["ann@ACME.com", "cy@eu.acme.com", "dee@yopmail.com"] {
        let response = post_as_policy_source(&app, email).await;
        assert_eq!(response.status(), 201, "{email}");
    }
    assert_eq!(app.stored_signups().await, 3);
    app.stop().await;
}

#[tokio::test]
async fn the_policy_is_checked_before_idempotency() {
    // A key first used while the domain was allowed answers its signup; a refused address with
    // an unused key is refused, never a 409/422 of idempotency.
    let app = spawn_app_with(sim_config(), |c| {
        c.sources[0].blocked_email_domains = vec!["blocked.example".into()];
    })
    .await;
    let response = app
        .post(
            &signup_body("x@blocked.example", "X").to_string(),
            "application/json",
            &[("Idempotency-Key", "same-key")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "email_domain_not_allowed");
    let response = app
        .post(
            &signup_body("x@fine.example", "X").to_string(),
            "application/json",
            &[("Idempotency-Key", "same-key")],
        )
        .await;
    assert_eq!(response.status(), 201, "the refused request held no key");
    app.stop().await;
}

fn rule(domain: &str, ids: &[u64]) -> OrganizationRule {
    OrganizationRule {
        domain: domain.into(),
        organization_ids: ids.iter().map(|&n| IdOrKey::Number(n)).collect(),
    }
}

#[tokio::test]
async fn domain_rules_add_the_most_specific_rules_organizations_once() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].organization_ids = vec![IdOrKey::Number(1)];
        c.tenants[0].organization_rules = vec![
            rule("acme.com", &[12, 1]),
            rule("*.acme.com", &[13]),
            rule("eu.acme.com", &[14]),
        ];
    })
    .await;
    let cases = [
        (
            "a@acme.com",
            vec!["create", "organization:1", "organization:12"],
        ),
        (
            "b@us.acme.com",
            vec!["create", "organization:1", "organization:13"],
        ),
        (
            "c@EU.acme.com",
            vec!["create", "organization:1", "organization:14"],
        ),
        ("d@other.org", vec!["create", "organization:1"]),
    ];
    for (email, want) in cases {
        let id = id_of(app.post_json(&signup_body(email, "Rule User")).await).await;
        let done = app.wait_final(&id, Duration::from_secs(20)).await;
        assert_eq!(done["status"], "created", "{done}");
        let steps: Vec<&str> = done["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(steps, want, "{email}");
    }
    let customers = app.sim.state().customers();
    let eu = customers
        .iter()
        .find(|c| c.email_address.eq_ignore_ascii_case("c@eu.acme.com"))
        .unwrap();
    assert_eq!(eu.organizations, ["1", "14"]);
    app.stop().await;
}

#[tokio::test]
async fn a_sources_rules_replace_the_tenants() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].organization_rules = vec![rule("acme.com", &[12])];
        c.sources[0].organization_rules = Some(vec![rule("*.acme.com", &[20])]);
    })
    .await;
    let id = id_of(app.post_json(&signup_body("a@acme.com", "A")).await).await;
    let done = app.wait_final(&id, Duration::from_secs(20)).await;
    assert_eq!(done["steps"].as_array().unwrap().len(), 1, "{done}");
    let id = id_of(app.post_json(&signup_body("b@x.acme.com", "B")).await).await;
    let done = app.wait_final(&id, Duration::from_secs(20)).await;
    assert_eq!(done["steps"][1]["name"], "organization:20", "{done}");
    app.stop().await;
}
