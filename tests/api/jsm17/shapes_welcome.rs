//! The welcome request's calls (SPEC §20) for the shape check in `shapes`: the request create,
//! the request type `doctor` reads, and the JQL search, each with its published failures.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// (operation, method, path, body, basic user): run after the customer `account` exists, in a
/// simulator whose desk 10 and request type 5 exist and where `denied` may do nothing.
pub fn cases(
    account: &Value,
    denied: &'static str,
) -> Vec<(&'static str, Method, String, Option<Value>, &'static str)> {
    let request = |desk: u64, request_type: u64| {
        json!({
            "serviceDeskId": desk.to_string(),
            "requestTypeId": request_type.to_string(),
            "raiseOnBehalfOf": account,
            "requestFieldValues": {"summary": "Welcome", "description": "Reference: sbw1"},
        })
    };
    let search = |jql: &str| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("jql", jql)
            .append_pair("fields", "*all")
            .finish();
        format!("/rest/api/3/search/jql?{query}")
    };
    let ours = signup_bridge::jsm::welcome_jql(account.as_str().unwrap_or_default(), "sbw1");
    let create = "/rest/servicedeskapi/request";
    let create_case = |desk, rtype, user| {
        let body = Some(request(desk, rtype));
        (
            "createCustomerRequest",
            Method::POST,
            create.to_string(),
            body,
            user,
        )
    };
    let get = |op, path: &str, user| (op, Method::GET, path.to_string(), None, user);
    let request_type = "getRequestTypeById";
    let search_op = "searchAndReconsileIssuesUsingJql";
    vec![
        create_case(10, 5, JSM_EMAIL),
        create_case(11, 5, JSM_EMAIL),
        create_case(10, 6, JSM_EMAIL),
        create_case(10, 5, denied),
        create_case(10, 5, "nobody@acme.test"),
        get(
            request_type,
            "/rest/servicedeskapi/servicedesk/10/requesttype/5",
            JSM_EMAIL,
        ),
        get(
            request_type,
            "/rest/servicedeskapi/servicedesk/10/requesttype/6",
            JSM_EMAIL,
        ),
        get(
            request_type,
            "/rest/servicedeskapi/servicedesk/10/requesttype/5",
            "nobody@acme.test",
        ),
        get(search_op, &search(&ours), JSM_EMAIL),
        get(
            search_op,
            &search("project = SD10 ORDER BY created"),
            JSM_EMAIL,
        ),
        get(search_op, &search(&ours), "nobody@acme.test"),
    ]
}
