//! Every simulator answer the bridge (and `doctor`) relies on, checked against the team's
//! fixture of the published shapes (`tests/fixtures/jsm/shapes.json`, written from Atlassian's
//! jsm.v3.json and swagger v3): the status is one the operation publishes, and the body has
//! the published field names with the published JSON types.

use reqwest::Method;
use serde_json::{Value, json};
use signup_bridge::sim::{SimCustomer, SimPermissions, SimServer};

use crate::helpers::*;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jsm/shapes.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Whether `value` has the type `ty` of the fixture's notation; the reason when not.
fn conforms(fx: &Value, ty: &str, value: Option<&Value>, at: &str) -> Result<(), String> {
    if let Some(inner) = ty.strip_suffix('?') {
        return match value {
            None | Some(Value::Null) => Ok(()),
            some => conforms(fx, inner, some, at),
        };
    }
    let value = value.ok_or_else(|| format!("{at}: missing ({ty})"))?;
    let wrong = || Err(format!("{at}: {value} is not {ty}"));
    if let Some(item) = ty.strip_prefix("array<").and_then(|t| t.strip_suffix('>')) {
        let Value::Array(items) = value else {
            return wrong();
        };
        return items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| conforms(fx, item, Some(v), &format!("{at}[{i}]")));
    }
    if let Some(item) = ty.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
        let Value::Object(map) = value else {
            return wrong();
        };
        return map
            .iter()
            .try_for_each(|(k, v)| conforms(fx, item, Some(v), &format!("{at}.{k}")));
    }
    let ok = match ty {
        "any" => true,
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        name => {
            let fields = fx["types"][name]
                .as_object()
                .unwrap_or_else(|| panic!("type {name} is not in the fixture"));
            if !value.is_object() {
                return wrong();
            }
            for (field, field_ty) in fields {
                let got = value.get(field);
                conforms(
                    fx,
                    field_ty.as_str().unwrap(),
                    got,
                    &format!("{at}.{field}"),
                )?;
                let allowed = &fx["enums"][format!("{name}.{field}")];
                if let (Some(allowed), Some(Value::String(got))) = (allowed.as_array(), got)
                    && !allowed.iter().any(|a| a == got)
                {
                    return Err(format!("{at}.{field}: {got} is not one of {allowed:?}"));
                }
            }
            true
        }
    };
    if ok { Ok(()) } else { wrong() }
}

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
    let cases: Vec<(&str, Method, String, Option<Value>, &str)> = vec![
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

/// `/a/{id}/b` matches `/a/10/b`.
fn same_path(published: &str, actual: &str) -> bool {
    let (p, a): (Vec<&str>, Vec<&str>) =
        (published.split('/').collect(), actual.split('/').collect());
    p.len() == a.len() && p.iter().zip(&a).all(|(p, a)| p.starts_with('{') || p == a)
}

#[test]
fn the_checker_rejects_what_the_documents_do_not_publish() {
    let fx = fixture();
    let good = json!({"accountId": "a", "displayName": "D", "active": true});
    assert!(conforms(&fx, "UserDTO", Some(&good), "x").is_ok());
    for bad in [
        json!({"displayName": "D", "active": true}),
        json!({"accountId": "a", "displayName": "D", "active": "true"}),
        json!({"accountId": 1, "displayName": "D", "active": true}),
    ] {
        assert!(conforms(&fx, "UserDTO", Some(&bad), "x").is_err(), "{bad}");
    }
    let user = json!({"accountId": "a", "accountType": "robot", "active": true});
    assert!(conforms(&fx, "User", Some(&user), "x").is_err(), "enum");
    let page = json!({"size": 1, "start": 0, "limit": 50, "isLastPage": "yes", "values": []});
    assert!(conforms(&fx, "PagedDTOUserDTO", Some(&page), "x").is_err());
}
