//! Every simulator answer the bridge (and `doctor`) relies on, checked against the team's
//! fixture of the published shapes (`tests/fixtures/jsm/shapes.json`, written from Atlassian's
//! jsm.v3.json and swagger v3): the status is one the operation publishes, and the body has
//! the published field names with the published JSON types.

use reqwest::Method;
use serde_json::{Value, json};
use signup_bridge::sim::{SimCustomer, SimPermissions, SimServer};

use super::shape_check::{conforms, fixture, same_path};
use crate::helpers::*;

/// One call to the simulator as the bridge makes it; (status, body or Null when empty).
async fn call(
    sim: &SimServer,
    method: Method,
    path: &str,
    body: Option<Value>,
    auth: &str,
) -> (u16, Value) {
    let mut request = http_client()
        .request(method, format!("{}{path}", sim.base_url))
        .header("Accept", "application/json")
        .header("X-ExperimentalApi", "opt-in")
        .basic_auth(auth, Some(JSM_TOKEN));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_simulator_answer_the_bridge_relies_on_has_the_published_shape() {
    let fx = fixture();
    let denied = "denied@acme.test";
    let mut sim_config = sim_config();
    sim_config.basic.push((denied.into(), JSM_TOKEN.into()));
    let sim = start_sim(sim_config).await;
    sim.state().update_facts(|f| {
        f.service_desks = Some(vec!["10".into()]);
        f.organizations = Some(vec!["7".into()]);
        f.request_types = Some(vec!["5".into()]);
        let none = SimPermissions {
            administer: false,
            user_picker: false,
            desk_admin: false,
        };
        f.permissions.insert(denied.into(), none);
    });
    let create = |email: &str| json!({"email": email, "displayName": "Fred F. User"});
    let (status, made) = call(
        &sim,
        Method::POST,
        "/rest/servicedeskapi/customer?strictConflictStatusCode=true",
        Some(create("fred@example.com")),
        JSM_EMAIL,
    )
    .await;
    assert_eq!(status, 201);
    let account = made["accountId"].clone();
    let members = json!({"accountIds": [account]});
    let strict = "/rest/servicedeskapi/customer?strictConflictStatusCode=true";
    let mut cases: Vec<(&str, Method, String, Option<Value>, &str)> = vec![
        (
            "createCustomer",
            Method::POST,
            strict.into(),
            Some(create("fred@example.com")),
            JSM_EMAIL,
        ),
        (
            "createCustomer",
            Method::POST,
            strict.into(),
            Some(create("not-an-email")),
            JSM_EMAIL,
        ),
        (
            "createCustomer",
            Method::POST,
            strict.into(),
            Some(create("new@example.com")),
            "nobody@acme.test",
        ),
        (
            "createCustomer",
            Method::POST,
            strict.into(),
            Some(create("new@example.com")),
            denied,
        ),
        (
            "createCustomer",
            Method::POST,
            strict.into(),
            Some(create("other@example.com")),
            JSM_EMAIL,
        ),
        (
            "addCustomers",
            Method::POST,
            "/rest/servicedeskapi/servicedesk/10/customer".into(),
            Some(members.clone()),
            JSM_EMAIL,
        ),
        (
            "addCustomers",
            Method::POST,
            "/rest/servicedeskapi/servicedesk/11/customer".into(),
            Some(members.clone()),
            JSM_EMAIL,
        ),
        (
            "addCustomers",
            Method::POST,
            "/rest/servicedeskapi/servicedesk/10/customer".into(),
            Some(json!({"accountIds": ["qm:nobody"]})),
            JSM_EMAIL,
        ),
        (
            "addCustomers",
            Method::POST,
            "/rest/servicedeskapi/servicedesk/10/customer".into(),
            Some(members.clone()),
            denied,
        ),
        (
            "addUsersToOrganization",
            Method::POST,
            "/rest/servicedeskapi/organization/7/user".into(),
            Some(members.clone()),
            JSM_EMAIL,
        ),
        (
            "addUsersToOrganization",
            Method::POST,
            "/rest/servicedeskapi/organization/8/user".into(),
            Some(members.clone()),
            JSM_EMAIL,
        ),
        (
            "addUsersToOrganization",
            Method::POST,
            "/rest/servicedeskapi/organization/7/user".into(),
            Some(members.clone()),
            denied,
        ),
        (
            "findUsers",
            Method::GET,
            "/rest/api/3/user/search?query=fred".into(),
            None,
            JSM_EMAIL,
        ),
        (
            "findUsers",
            Method::GET,
            "/rest/api/3/user/search?query=fred".into(),
            None,
            denied,
        ),
        (
            "findUsers",
            Method::GET,
            "/rest/api/3/user/search?query=".into(),
            None,
            JSM_EMAIL,
        ),
        (
            "getCustomers",
            Method::GET,
            "/rest/servicedeskapi/servicedesk/10/customer?query=fred".into(),
            None,
            JSM_EMAIL,
        ),
        (
            "getCustomers",
            Method::GET,
            "/rest/servicedeskapi/servicedesk/11/customer?query=fred".into(),
            None,
            JSM_EMAIL,
        ),
        (
            "getCustomers",
            Method::GET,
            "/rest/servicedeskapi/servicedesk/10/customer?query=fred".into(),
            None,
            denied,
        ),
        (
            "getServiceDeskById",
            Method::GET,
            "/rest/servicedeskapi/servicedesk/10".into(),
            None,
            JSM_EMAIL,
        ),
        (
            "getServiceDeskById",
            Method::GET,
            "/rest/servicedeskapi/servicedesk/11".into(),
            None,
            JSM_EMAIL,
        ),
        (
            "getOrganization",
            Method::GET,
            "/rest/servicedeskapi/organization/7".into(),
            None,
            JSM_EMAIL,
        ),
        (
            "getOrganization",
            Method::GET,
            "/rest/servicedeskapi/organization/8".into(),
            None,
            JSM_EMAIL,
        ),
        (
            "getCurrentUser",
            Method::GET,
            "/rest/api/3/myself".into(),
            None,
            JSM_EMAIL,
        ),
        (
            "getCurrentUser",
            Method::GET,
            "/rest/api/3/myself".into(),
            None,
            "nobody@acme.test",
        ),
        (
            "getMyPermissions",
            Method::GET,
            "/rest/api/3/mypermissions?permissions=ADMINISTER,USER_PICKER".into(),
            None,
            denied,
        ),
        (
            "getMyPermissions",
            Method::GET,
            "/rest/api/3/mypermissions".into(),
            None,
            JSM_EMAIL,
        ),
    ];
    cases.extend(super::shapes_welcome::cases(&account, denied));
    // An email-hidden, inactive site user, so user search shows every published variant.
    sim.state().add_account(SimCustomer {
        account_id: String::new(),
        email_address: "fred.agent@example.com".into(),
        display_name: "Fred Agent".into(),
        active: false,
        account_type: "atlassian".into(),
        email_visible: false,
        service_desks: vec![],
        organizations: vec![],
    });
    sim.state().update_facts(|f| f.include_inactive = true);
    let mut covered = std::collections::BTreeSet::new();
    for (operation, method, path, body, auth) in cases {
        let op = &fx["operations"][operation];
        assert!(op.is_object(), "{operation} is not in the fixture");
        let published_path = op["path"].as_str().unwrap();
        let bare = path.split('?').next().unwrap();
        assert!(
            same_path(published_path, bare),
            "{operation}: {bare} vs {published_path}"
        );
        assert_eq!(op["method"], method.as_str(), "{operation}");
        let (status, answer) = call(&sim, method, &path, body, auth).await;
        let ty = op["responses"][status.to_string()]
            .as_str()
            .unwrap_or_else(|| panic!("{operation} {path}: {status} is not a published status"));
        if ty == "empty" {
            assert_eq!(answer, Value::Null, "{operation}: {status} has a body");
        } else if let Err(why) = conforms(&fx, ty, Some(&answer), operation) {
            panic!("{operation} {path} ({status}): {why}");
        }
        covered.insert((operation, status));
    }
    for (operation, _) in fx["operations"].as_object().unwrap() {
        assert!(
            covered.iter().any(|(o, _)| o == operation),
            "{operation} never checked"
        );
    }
    assert!(covered.len() >= 20, "{covered:?}");
    sim.stop().await;
}
