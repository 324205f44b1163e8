//! A source's rate limit on reads, and what `/metrics` says about installations.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn reading_a_signup_spends_the_source_rate_limit() {
    let app = spawn_app_with(sim_config(), |c| {
        c.sources[0].rate_limit = Some(signup_bridge::config::RateLimitConfig {
            requests_per_second: 0.01,
            burst: 2,
        });
    })
    .await;
    let response = app
        .post_json(&signup_body("limited@example.com", "Limited"))
        .await;
    assert_eq!(response.status(), 201);
    let id = id_of(response).await;
    assert_eq!(app.get_signup(&id, &app.token()).await.status(), 200);
    let limited = app.get_signup(&id, &app.token()).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    let problem: Value = limited.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited");
    // A bad token is 401 first and spends nothing (auth runs before the limit).
    let forged = app
        .get_signup(&id, &token_for(SOURCE, "x".repeat(40).as_str()))
        .await;
    assert_eq!(forged.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn metrics_label_installations_by_a_hash_of_the_client_key() {
    use crate::connect::{CLIENT_KEY, lifecycle, shop_signup, spawn_connect_app};
    let app = spawn_connect_app("", |_| CLIENT_KEY.to_string(), |_| {}).await;
    let secret = "installation-shared-secret-0123456789";
    assert_eq!(
        lifecycle(&app, "installed", CLIENT_KEY, Some(secret))
            .await
            .status,
        204
    );
    assert_eq!(shop_signup(&app, "metered@example.com").await.status(), 201);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let label = signup_bridge::metrics::tenant_label(CLIENT_KEY, true);
    assert!(
        metrics.contains(&format!("tenant=\"{label}\"")),
        "{label} not in {metrics}"
    );
    assert!(!metrics.contains(CLIENT_KEY), "{metrics}");
    app.stop().await;
}

crate::backends::also_on_postgres!(
    reading_a_signup_spends_the_source_rate_limit,
    metrics_label_installations_by_a_hash_of_the_client_key
);
