//! Customer requests and the JQL search: raised on a customer's behalf, the `requestTypes`
//! switch, the unknown-account refusal, `/_sim/issues`, and the search's pages and fields.

use super::facts::{configure, get};
use super::*;

async fn raise(sim: &SimServer, body: Value) -> (u16, Value) {
    let resp = client()
        .post(format!("{}/rest/servicedeskapi/request", sim.base_url))
        .basic_auth(EMAIL, Some(API_TOKEN))
        .json(&body)
        .send()
        .await
        .expect("raise");
    status_and_json(resp).await
}

fn request(account: &str, request_type: &str, marker: &str) -> Value {
    json!({"serviceDeskId": "10", "requestTypeId": request_type, "raiseOnBehalfOf": account,
        "requestFieldValues": {"summary": "Welcome", "description": format!("Hi.\n\nReference: {marker}")}})
}

fn search(account: &str, words: &str, extra: &str) -> String {
    let jql = format!("reporter = \"{account}\" AND description ~ \"{words}\"");
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("jql", &jql)
        .finish();
    format!("/rest/api/3/search/jql?{query}{extra}")
}

#[tokio::test]
async fn requests_are_raised_for_known_accounts_and_found_page_by_page() {
    let sim = start(config()).await;
    let (status, customer) = create(&sim, "fred@example.com", true).await;
    assert_eq!(status, 201);
    let account = customer["accountId"].as_str().unwrap();
    configure(&sim, json!({"requestTypes": ["5"]})).await;
    let (status, made) = raise(&sim, request(account, "5", "sbw1")).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["issueKey"], "SD10-1");
    assert_eq!(made["reporter"]["accountId"], account);
    let (status, body) = raise(&sim, request(account, "6", "sbw2")).await;
    assert_eq!(status, 400, "unknown request type: {body}");
    let (status, body) = raise(&sim, request("qm:nobody", "5", "sbw3")).await;
    assert_eq!(status, 400, "unknown account: {body}");
    assert!(jsm_error(&body).contains("qm:nobody"));
    raise(&sim, request(account, "5", "sbw1 again")).await;

    let issues: Value = client()
        .get(format!("{}/_sim/issues", sim.control_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(issues.as_array().unwrap().len(), 2, "{issues}");

    // Two matches, one per page; ids only unless fields are asked for.
    let (status, first, _) = get(&sim, &search(account, "SBW1", "&maxResults=1")).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["isLast"], false);
    assert_eq!(first["issues"][0]["fields"], json!({}));
    let token = first["nextPageToken"].as_str().unwrap();
    let (_, second, _) = get(
        &sim,
        &search(
            account,
            "sbw1",
            &format!("&maxResults=1&nextPageToken={token}&fields=*all"),
        ),
    )
    .await;
    assert_eq!(second["isLast"], true, "{second}");
    assert!(second.get("nextPageToken").is_none());
    let fields = &second["issues"][0]["fields"];
    assert_eq!(fields["reporter"]["accountId"], account);
    assert_eq!(fields["customfield_10010"]["requestType"]["id"], "5");
    assert_eq!(fields["description"]["type"], "doc");
    let (_, none, _) = get(&sim, &search("qm:other", "sbw1", "")).await;
    assert_eq!(none["issues"], json!([]));
    let (status, refused, _) = get(&sim, "/rest/api/3/search/jql?jql=project%20%3D%20SD").await;
    assert_eq!(status, 400);
    assert!(refused["errorMessages"][0].is_string(), "{refused}");
    sim.stop().await;
}
