//! SPEC §17: the behaviours Atlassian publishes, each on by default and switchable.

use super::*;
use reqwest::header::HeaderMap;

pub(super) async fn configure(sim: &SimServer, patch: Value) {
    let resp = client()
        .post(format!("{}/_sim/config", sim.control_url))
        .json(&patch)
        .send()
        .await
        .expect("config");
    assert_eq!(resp.status().as_u16(), 204, "{patch}");
}

async fn add_account(sim: &SimServer, account: Value) -> Value {
    let resp = client()
        .post(format!("{}/_sim/accounts", sim.control_url))
        .json(&account)
        .send()
        .await
        .expect("add account");
    let (status, body) = status_and_json(resp).await;
    assert_eq!(status, 201, "{body}");
    body
}

/// A GET with Basic auth (and the experimental header); status, body, headers.
pub(super) async fn get(sim: &SimServer, path: &str) -> (u16, Value, HeaderMap) {
    let resp = client()
        .get(format!("{}{path}", sim.base_url))
        .basic_auth(EMAIL, Some(API_TOKEN))
        .header("X-ExperimentalApi", "opt-in")
        .send()
        .await
        .expect("get");
    let headers = resp.headers().clone();
    let (status, body) = status_and_json(resp).await;
    (status, body, headers)
}

fn emails(body: &Value) -> Vec<String> {
    let mut list: Vec<String> = body
        .as_array()
        .expect("array")
        .iter()
        .map(|u| u["emailAddress"].as_str().unwrap_or("<hidden>").to_string())
        .collect();
    list.sort();
    list
}

#[tokio::test]
async fn user_search_shows_active_prefix_matches_with_account_types() {
    let sim = start(config()).await;
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 201);
    add_account(
        &sim,
        json!({"email": "alfred@example.com", "displayName": "Alfred"}),
    )
    .await;
    add_account(
        &sim,
        json!({"email": "fred.old@example.com", "displayName": "Fred Old", "active": false}),
    )
    .await;
    let staff = add_account(
        &sim,
        json!({"email": "fred.agent@example.com", "displayName": "Fred Agent",
               "accountType": "atlassian", "emailVisible": false}),
    )
    .await;
    assert_eq!(staff["accountType"], "atlassian");
    assert_eq!(staff["emailVisible"], false);

    let (status, body, _) = get(&sim, "/rest/api/3/user/search?query=fred").await;
    assert_eq!(status, 200);
    // Not alfred (a substring, not a prefix), not the inactive account.
    assert_eq!(emails(&body), ["<hidden>", "fred@example.com"]);
    let types: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["accountType"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"atlassian") && types.contains(&"customer"),
        "{body}"
    );

    configure(
        &sim,
        json!({"substringSearch": true, "includeInactive": true}),
    )
    .await;
    let (_, body, _) = get(&sim, "/rest/api/3/user/search?query=fred").await;
    assert_eq!(body.as_array().unwrap().len(), 4, "{body}");

    let listed = client()
        .get(format!("{}/_sim/customers", sim.control_url))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    for field in [
        "accountId",
        "emailAddress",
        "displayName",
        "accountType",
        "active",
        "emailVisible",
    ] {
        assert!(!listed[0][field].is_null(), "{field}: {listed}");
    }
    sim.stop().await;
}

#[tokio::test]
async fn permissions_give_empty_searches_and_403s() {
    let sim = start(config()).await;
    let (_, created) = create(&sim, "fred@example.com", true).await;
    let account = created["accountId"].clone();
    configure(
        &sim,
        json!({"permissions": {"*": {"administer": true, "userPicker": true, "deskAdmin": true},
                               EMAIL: {"administer": false, "userPicker": false, "deskAdmin": false}}}),
    )
    .await;
    let (status, body, _) = get(&sim, "/rest/api/3/user/search?query=fred").await;
    assert_eq!((status, body), (200, json!([])), "empty, not 403");
    let (status, body) = create(&sim, "new@example.com", true).await;
    assert_eq!(status, 403, "{body}");
    jsm_error(&body);
    for path in [
        "/rest/servicedeskapi/servicedesk/12/customer",
        "/rest/servicedeskapi/organization/7/user",
    ] {
        let resp = client()
            .post(format!("{}{path}", sim.base_url))
            .basic_auth(EMAIL, Some(API_TOKEN))
            .json(&json!({"accountIds": [account]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403, "{path}");
    }
    let (status, body, _) = get(
        &sim,
        "/rest/api/3/mypermissions?permissions=ADMINISTER,USER_PICKER",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["permissions"]["ADMINISTER"]["havePermission"], false);
    assert_eq!(body["permissions"]["USER_PICKER"]["havePermission"], false);
    assert_eq!(body["permissions"]["USER_PICKER"]["key"], "USER_PICKER");
    assert_eq!(get(&sim, "/rest/api/3/mypermissions").await.0, 400);
    // Another credential falls back to "*".
    configure(&sim, json!({"permissions": {}})).await;
    let (_, body, _) = get(&sim, "/rest/api/3/mypermissions?permissions=ADMINISTER").await;
    assert_eq!(body["permissions"]["ADMINISTER"]["havePermission"], true);
    sim.stop().await;
}

#[tokio::test]
async fn unknown_desks_and_organizations_are_404() {
    let sim = start(config()).await;
    let (_, created) = create(&sim, "fred@example.com", true).await;
    let account = created["accountId"].clone();
    let (status, desk, _) = get(&sim, "/rest/servicedeskapi/servicedesk/12").await;
    assert_eq!(status, 200, "any id exists by default");
    assert_eq!(desk["id"], "12");
    for field in ["projectId", "projectName", "projectKey"] {
        assert!(desk[field].is_string(), "{field}: {desk}");
    }
    configure(&sim, json!({"serviceDesks": ["1"], "organizations": [3]})).await;
    assert_eq!(
        get(&sim, "/rest/servicedeskapi/servicedesk/12").await.0,
        404
    );
    assert_eq!(get(&sim, "/rest/servicedeskapi/servicedesk/1").await.0, 200);
    let (status, org, _) = get(&sim, "/rest/servicedeskapi/organization/3").await;
    assert_eq!((status, org["id"].as_str()), (200, Some("3")));
    assert!(org["name"].is_string());
    assert_eq!(
        get(&sim, "/rest/servicedeskapi/organization/4").await.0,
        404
    );
    for (path, want) in [
        ("/rest/servicedeskapi/servicedesk/12/customer", 404),
        ("/rest/servicedeskapi/organization/4/user", 404),
        ("/rest/servicedeskapi/servicedesk/1/customer", 204),
        ("/rest/servicedeskapi/organization/3/user", 204),
    ] {
        let resp = client()
            .post(format!("{}{path}", sim.base_url))
            .basic_auth(EMAIL, Some(API_TOKEN))
            .json(&json!({"accountIds": [account]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), want, "{path}");
    }
    configure(&sim, json!({"serviceDesks": null})).await;
    assert_eq!(
        get(&sim, "/rest/servicedeskapi/servicedesk/12").await.0,
        200
    );
    sim.stop().await;
}

#[tokio::test]
async fn desk_customer_search_is_experimental_and_paged() {
    let sim = start(config()).await;
    let (_, created) = create(&sim, "fred@example.com", true).await;
    let resp = client()
        .post(format!(
            "{}/rest/servicedeskapi/servicedesk/5/customer",
            sim.base_url
        ))
        .basic_auth(EMAIL, Some(API_TOKEN))
        .json(&json!({"accountIds": [created["accountId"]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let (status, page, _) = get(
        &sim,
        "/rest/servicedeskapi/servicedesk/5/customer?query=FRED@",
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["size"], 1);
    assert_eq!(page["isLastPage"], true);
    assert_eq!(page["values"][0]["emailAddress"], "fred@example.com");
    let (_, other, _) = get(
        &sim,
        "/rest/servicedeskapi/servicedesk/6/customer?query=fred",
    )
    .await;
    assert_eq!(other["size"], 0);
    let without_header = client()
        .get(format!(
            "{}/rest/servicedeskapi/servicedesk/5/customer?query=fred",
            sim.base_url
        ))
        .basic_auth(EMAIL, Some(API_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(without_header.status().as_u16(), 400);
    sim.stop().await;
}

#[tokio::test]
async fn german_site_answers_english_only_to_request_language() {
    let sim = start(config()).await;
    configure(&sim, json!({"language": "de"})).await;
    assert_eq!(create(&sim, "fred@example.com", true).await.0, 201);
    let (status, body) = create(&sim, "fred@example.com", false).await;
    assert_eq!(status, 400);
    assert!(
        jsm_error(&body).starts_with("Für diese E-Mail-Adresse"),
        "{body}"
    );
    let resp = client()
        .post(format!("{}{CREATE}?requestLanguage=en-US", sim.base_url))
        .basic_auth(EMAIL, Some(API_TOKEN))
        .json(&json!({"email": "fred@example.com", "displayName": "Fred"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(resp).await;
    assert_eq!(status, 400);
    assert!(
        jsm_error(&body).starts_with(crate::sim::routes::DUPLICATE_EMAIL_EN),
        "{body}"
    );
    sim.stop().await;
}
