//! Customer create, user search, service desk and organization membership.

use super::*;

#[tokio::test]
async fn create_answers_201_with_a_jsm_shaped_customer() {
    let sim = start(config()).await;
    let (status, body) = create(&sim, "fred@example.com", true).await;
    assert_eq!(status, 201, "{body}");
    let account_id = body["accountId"].as_str().expect("accountId");
    assert!(account_id.starts_with("qm:"), "{account_id}");
    assert_eq!(body["emailAddress"], "fred@example.com");
    assert_eq!(body["displayName"], "Fred F. User");
    assert_eq!(body["active"], true);
    for field in ["name", "key", "timeZone"] {
        assert!(body[field].is_string(), "{field} missing: {body}");
    }
    assert!(
        body["_links"]["self"]
            .as_str()
            .is_some_and(|s| s.starts_with(&sim.base_url))
    );
    let customers = sim.state().customers();
    assert_eq!(customers.len(), 1);
    assert_eq!(customers[0].account_id, account_id);
    sim.stop().await;
}

#[tokio::test]
async fn legacy_full_name_is_accepted() {
    let sim = start(config()).await;
    let resp = client()
        .post(format!("{}{CREATE}", sim.base_url))
        .basic_auth(EMAIL, Some(API_TOKEN))
        .json(&json!({"email": "old@example.com", "fullName": "Old Style"}))
        .send()
        .await
        .expect("request");
    let (status, body) = status_and_json(resp).await;
    assert_eq!(
        (status, body["displayName"].as_str()),
        (201, Some("Old Style"))
    );
    sim.stop().await;
}

#[tokio::test]
async fn duplicate_email_in_other_case_is_409_when_strict_else_400() {
    let sim = start(config()).await;
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 201);
    let (status, body) = create(&sim, "FRED@Example.COM", true).await;
    assert_eq!(status, 409, "{body}");
    jsm_error(&body);
    let (status, body) = create(&sim, "Fred@example.com", false).await;
    assert_eq!(status, 400, "{body}");
    assert!(jsm_error(&body).contains("already exists"), "{body}");
    assert_eq!(sim.state().customers().len(), 1);
    sim.stop().await;
}

#[tokio::test]
async fn invalid_or_missing_email_is_400_with_jsm_body() {
    let sim = start(config()).await;
    for email in ["", "not-an-email", "a b@example.com", "@example.com", "a@"] {
        let (status, body) = create(&sim, email, true).await;
        assert_eq!(status, 400, "{email}: {body}");
        jsm_error(&body);
    }
    let resp = client()
        .post(format!("{}{CREATE}", sim.base_url))
        .basic_auth(EMAIL, Some(API_TOKEN))
        .json(&json!({"displayName": "No Email"}))
        .send()
        .await
        .expect("request");
    let (status, body) = status_and_json(resp).await;
    assert_eq!(status, 400);
    jsm_error(&body);
    assert!(sim.state().customers().is_empty());
    sim.stop().await;
}

async fn search(sim: &SimServer, query: &str) -> (u16, Value) {
    let resp = client()
        .get(format!("{}/rest/api/3/user/search", sim.base_url))
        .query(&[("query", query)])
        .basic_auth(EMAIL, Some(API_TOKEN))
        .send()
        .await
        .expect("search");
    status_and_json(resp).await
}

#[tokio::test]
async fn search_returns_prefix_matches_and_can_hide_emails() {
    let sim = start(config()).await;
    for email in ["fred@example.com.au", "fred@example.com", "bob@example.com"] {
        assert_eq!(create(&sim, email, true).await.0, 201);
    }
    let (status, body) = search(&sim, "FRED@example.com").await;
    assert_eq!(status, 200);
    let mut emails: Vec<&str> = body
        .as_array()
        .expect("array")
        .iter()
        .map(|u| {
            assert_eq!(u["accountType"], "customer");
            assert!(u["accountId"].is_string() && u["active"] == true);
            u["emailAddress"].as_str().expect("emailAddress")
        })
        .collect();
    emails.sort();
    assert_eq!(emails, ["fred@example.com", "fred@example.com.au"]);

    sim.state().set_hide_emails(true);
    let (_, body) = search(&sim, "fred@example.com").await;
    let users = body.as_array().expect("array");
    assert_eq!(users.len(), 2);
    assert!(
        users.iter().all(|u| u.get("emailAddress").is_none()),
        "{body}"
    );

    // The control API switches the mode back.
    let resp = client()
        .post(format!("{}/_sim/config", sim.control_url))
        .json(&json!({"hideEmails": false}))
        .send()
        .await
        .expect("config");
    assert_eq!(resp.status().as_u16(), 204);
    let (_, body) = search(&sim, "bob").await;
    assert_eq!(body[0]["emailAddress"], "bob@example.com");

    assert_eq!(search(&sim, "").await.0, 400);
    sim.stop().await;
}

async fn add(sim: &SimServer, path: &str, ids: Value) -> (u16, Value) {
    let resp = client()
        .post(format!("{}{path}", sim.base_url))
        .basic_auth(EMAIL, Some(API_TOKEN))
        .json(&json!({ "accountIds": ids }))
        .send()
        .await
        .expect("add");
    status_and_json(resp).await
}

#[tokio::test]
async fn service_desk_and_organization_membership() {
    let sim = start(config()).await;
    let (_, body) = create(&sim, "fred@example.com", true).await;
    let id = body["accountId"].clone();
    let desk = "/rest/servicedeskapi/servicedesk/10/customer";
    let org = "/rest/servicedeskapi/organization/7/user";
    assert_eq!(add(&sim, desk, json!([id])).await.0, 204);
    assert_eq!(add(&sim, desk, json!([id])).await.0, 204);
    assert_eq!(add(&sim, org, json!([id])).await.0, 204);
    let customer = &sim.state().customers()[0];
    assert_eq!(customer.service_desks, ["10"]);
    assert_eq!(customer.organizations, ["7"]);

    let (status, body) = add(&sim, desk, json!(["qm:unknown"])).await;
    assert_eq!(status, 400);
    jsm_error(&body);
    assert_eq!(add(&sim, desk, json!([])).await.0, 400);
    let bad_org = "/rest/servicedeskapi/organization/abc/user";
    assert_eq!(add(&sim, bad_org, json!([id])).await.0, 404);
    sim.stop().await;
}

#[tokio::test]
async fn wrong_method_and_unknown_route_are_rejected() {
    let sim = start(config()).await;
    let get = client()
        .get(format!("{}{CREATE}", sim.base_url))
        .basic_auth(EMAIL, Some(API_TOKEN))
        .send()
        .await
        .expect("get");
    assert_eq!(get.status().as_u16(), 405);
    let unknown = client()
        .get(format!("{}/rest/servicedeskapi/nothing", sim.base_url))
        .basic_auth(EMAIL, Some(API_TOKEN))
        .send()
        .await
        .expect("get");
    assert_eq!(unknown.status().as_u16(), 404);
    sim.stop().await;
}
