//! SPEC §17: OAuth tokens only under the API gateway, and the rate-limit headers.

use super::facts::{configure, get};
use super::*;
use reqwest::header::HeaderMap;

#[tokio::test]
async fn oauth_tokens_work_only_under_the_gateway_of_the_sites_cloud_id() {
    let sim = start(config()).await;
    let info: Value = client()
        .get(format!("{}/_edge/tenant_info", sim.control_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["cloudId"], sim.cloud_id());
    let me = |base: String, auth: String| async move {
        let resp = client()
            .get(format!("{base}/rest/api/3/myself"))
            .header("Authorization", auth)
            .send()
            .await
            .unwrap();
        status_and_json(resp).await
    };
    let bearer = format!("Bearer {BEARER}");
    assert_eq!(me(sim.base_url.clone(), bearer.clone()).await.0, 401);
    let (status, body) = me(sim.gateway_url(), bearer.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accountType"], "atlassian");
    let other_site = format!(
        "{}/ex/jira/00000000-0000-0000-0000-000000000000",
        sim.control_url
    );
    assert_eq!(me(other_site, bearer.clone()).await.0, 401);
    configure(&sim, json!({"oauthAtSite": true})).await;
    assert_eq!(me(sim.base_url.clone(), bearer).await.0, 200);
    // Basic answers as its Atlassian account, with its email.
    let (status, body, _) = get(&sim, "/rest/api/3/myself").await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["accountType"].as_str(), body["emailAddress"].as_str()),
        (Some("atlassian"), Some(EMAIL))
    );
    assert_eq!(body["active"], true);
    sim.stop().await;
}

#[tokio::test]
async fn rate_limit_headers_and_iso_reset_on_429() {
    let sim = start(config()).await;
    configure(
        &sim,
        json!({"rateLimit": {"perSecond": 0.001, "burst": 5, "retryAfterSecs": 30},
               "rateLimitReason": "jira-quota-tenant-based", "clockSkewSecs": 120}),
    )
    .await;
    let mut last = HeaderMap::new();
    for left in (0..5).rev() {
        let (status, _, headers) = get(&sim, "/rest/api/3/myself").await;
        assert_eq!(status, 200);
        assert_eq!(headers["x-ratelimit-limit"], "5");
        assert_eq!(headers["x-ratelimit-remaining"], left.to_string().as_str());
        assert_eq!(
            headers.contains_key("x-ratelimit-nearlimit"),
            left < 1,
            "{left}"
        );
        last = headers;
    }
    let date = httpdate::parse_http_date(last["date"].to_str().unwrap()).unwrap();
    let ahead = date
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    assert!(ahead.as_secs() >= 100, "Date is skewed ahead: {ahead:?}");
    let (status, _, headers) = get(&sim, "/rest/api/3/myself").await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "30");
    assert_eq!(headers["ratelimit-reason"], "jira-quota-tenant-based");
    let reset = headers["x-ratelimit-reset"].to_str().unwrap();
    assert!(humantime::parse_rfc3339(reset).is_ok(), "ISO 8601: {reset}");
    sim.stop().await;
}
