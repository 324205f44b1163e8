//! The simulator as the Forge platform refuses what the real one would: tokens it did not
//! issue, expired ones, another site's; and its 403 and 429 modes answer as JSM does.

use std::time::Duration;

use super::*;
use crate::sim::forge::issue_token;

fn forge_create(
    client: &Client,
    control: &str,
    cloud: &str,
    token: Option<&str>,
) -> RequestBuilder {
    let request = create_req(
        client,
        &format!("{control}/ex/jira/{cloud}"),
        "forge@example.com",
        true,
    );
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

#[tokio::test]
async fn forge_tokens_are_checked_per_site_and_expiry() {
    let sim = start(config()).await;
    let c = client();
    let state = sim.state();
    let live = issue_token(state, "inst-a", "cloud-a", Duration::from_secs(3600))
        .await
        .unwrap();
    let expired = issue_token(state, "inst-a", "cloud-a", Duration::ZERO)
        .await
        .unwrap();
    let cases = [
        ("no token", "cloud-a", None, 401),
        (
            "a token it never issued",
            "cloud-a",
            Some("forged.token.value"),
            401,
        ),
        ("the configured bearer", "cloud-a", Some(BEARER), 401),
        ("expired", "cloud-a", Some(expired.as_str()), 401),
        ("another site's", "cloud-b", Some(live.as_str()), 401),
        ("live, its site", "cloud-a", Some(live.as_str()), 201),
    ];
    for (name, cloud, token, want) in cases {
        let status = forge_create(&c, &sim.control_url, cloud, token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), want, "{name}");
    }
    assert_eq!(sim.state().customers().len(), 1);
    let logged = sim.state().requests();
    assert!(
        logged.iter().all(|r| r.path.starts_with("/ex/jira/")),
        "logged as received"
    );
    // The gateway path serves only the API: the token is no good at the site's own URL.
    let direct = create_req(&c, &sim.base_url, "x@example.com", true)
        .bearer_auth(&live)
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status().as_u16(), 401);
    sim.stop().await;
}

#[tokio::test]
async fn forge_modes_answer_403_and_points_based_429s() {
    let sim = start(config()).await;
    let c = client();
    let state = sim.state();
    let token = issue_token(state, "inst-a", "cloud-a", Duration::from_secs(3600))
        .await
        .unwrap();
    {
        let mut inner = state.lock();
        inner.forge.set_installed(
            "cloud-a",
            crate::sim::state::unix_ms(std::time::SystemTime::now()),
        );
        inner.forge.forbidden_for = Some(Duration::from_secs(3600));
    }
    let denied = forge_create(&c, &sim.control_url, "cloud-a", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status().as_u16(), 403);
    {
        let mut inner = state.lock();
        inner.forge.forbidden_for = None;
        inner.forge.near_limit = true;
        inner.forge.rate_limit = Some(crate::sim::ForgeRateLimit {
            reason: "jira-quota-global-based".into(),
            times: 1,
            retry_after: None,
            reset_in: Some(5),
        });
    }
    let limited = forge_create(&c, &sim.control_url, "cloud-a", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status().as_u16(), 429);
    let header = |name: &str| {
        limited
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(
        header("RateLimit-Reason").as_deref(),
        Some("jira-quota-global-based")
    );
    assert_eq!(header("Retry-After"), None);
    assert!(header("X-RateLimit-Reset").is_some_and(|r| humantime::parse_rfc3339(&r).is_ok()));
    assert_eq!(header("X-RateLimit-NearLimit").as_deref(), Some("true"));
    let after = forge_create(&c, &sim.control_url, "cloud-a", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status().as_u16(), 201, "one 429, then served");
    assert_eq!(
        sim.state().customers().len(),
        1,
        "403 and 429 had no effect"
    );
    sim.stop().await;
}

#[tokio::test]
async fn the_forge_jwks_publishes_the_signing_key() {
    let sim = start(config()).await;
    let jwks: Value = client()
        .get(format!("{}/_sim/forge/jwks.json", sim.control_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str()),
        (Some("RSA"), Some("RS256"))
    );
    assert_eq!(
        key["kid"].as_str(),
        Some(crate::sim::forge_kid().unwrap().as_str())
    );
    let bad = client()
        .post(format!("{}/_sim/forge/trigger", sim.control_url))
        .json(&json!({"bridgeUrl": "http://127.0.0.1:9", "endpoint": "nope", "appId": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 502);
    sim.stop().await;
}
