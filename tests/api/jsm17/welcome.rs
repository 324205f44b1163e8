//! SPEC §20, the welcome request: raised on the customer's behalf after the desk and
//! organization steps, skipped without a readable account, final on a missing desk or request
//! type, a 403 naming the permission, and searched for before it is sent again.

use std::time::Duration;

use serde_json::Value;
use signup_bridge::config::{Config, IdOrKey, WelcomeRequest};
use signup_bridge::sim::{FaultAction, SimCustomer, SimPermissions};

use crate::helpers::*;

const REQUEST_PATH: &str = "/rest/servicedeskapi/request";
const SEARCH_PATH: &str = "/rest/api/3/search/jql";

fn welcome(desk: u64, request_type: u64) -> WelcomeRequest {
    WelcomeRequest {
        service_desk_id: IdOrKey::Number(desk),
        request_type_id: IdOrKey::Number(request_type),
        summary: "Welcome, {displayName}".into(),
        description: "Hello {displayName}, your portal login is {email}.".into(),
    }
}

fn with_welcome(c: &mut Config) {
    c.tenants[0].welcome_request = Some(welcome(10, 5));
}

async fn one_signup(app: &TestApp, email: &str) -> Value {
    let id = id_of(app.post_json(&signup_body(email, "Ada Lovelace")).await).await;
    app.wait_final(&id, Duration::from_secs(20)).await
}

fn body_of(r: &signup_bridge::sim::LoggedRequest) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

#[tokio::test]
async fn the_welcome_request_is_raised_on_the_customers_behalf_after_the_other_steps() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].service_desk_ids = vec![IdOrKey::Number(10)];
        c.tenants[0].organization_ids = vec![IdOrKey::Number(7)];
        with_welcome(c);
    })
    .await;
    let done = one_signup(&app, "ada@example.com").await;
    assert_eq!(done["status"], "created", "{done}");
    let names: Vec<&str> = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "create",
            "service_desk:10",
            "organization:7",
            "welcome_request:10:5"
        ]
    );
    assert_eq!(done["steps"][3]["state"], "done", "{done}");

    let log = app.sim.state().requests();
    let at = |path: &str| log.iter().position(|r| r.path.ends_with(path)).unwrap();
    assert!(at("/servicedesk/10/customer") < at(REQUEST_PATH));
    assert!(at("/organization/7/user") < at(REQUEST_PATH));
    let sent = jsm_requests(&app.sim, "POST", REQUEST_PATH);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].query.contains("requestLanguage=en-US"),
        "{:?}",
        sent[0]
    );
    let body = body_of(&sent[0]);
    let account = done["customer"]["accountId"].as_str().unwrap();
    assert_eq!(body["raiseOnBehalfOf"], account);
    assert_eq!(body["serviceDeskId"], "10");
    assert_eq!(body["requestTypeId"], "5");
    assert_eq!(
        body["requestFieldValues"]["summary"],
        "Welcome, Ada Lovelace"
    );
    let description = body["requestFieldValues"]["description"].as_str().unwrap();
    let marker = signup_bridge::jsm::welcome_marker(done["id"].as_str().unwrap());
    assert_eq!(
        description,
        format!("Hello Ada Lovelace, your portal login is ada@example.com.\n\nReference: {marker}")
    );
    // A first run has no lost outcome to look for.
    assert!(jsm_requests(&app.sim, "GET", SEARCH_PATH).is_empty());
    let issues = app.sim.state().issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].reporter, account);
    app.stop().await;
}

#[tokio::test]
async fn no_readable_account_skips_the_welcome_request() {
    let app = spawn_app_with(sim_config(), with_welcome).await;
    app.sim.state().add_account(SimCustomer {
        account_id: String::new(),
        email_address: "hidden@example.com".into(),
        display_name: "Hidden".into(),
        active: true,
        account_type: "customer".into(),
        email_visible: false,
        service_desks: Vec::new(),
        organizations: Vec::new(),
    });
    let done = one_signup(&app, "hidden@example.com").await;
    assert_eq!(done["status"], "existing", "{done}");
    assert_eq!(done["steps"][1]["name"], "welcome_request:10:5");
    assert_eq!(done["steps"][1]["state"], "skipped", "{done}");
    assert!(jsm_requests(&app.sim, "POST", REQUEST_PATH).is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_missing_desk_or_request_type_fails_at_once_naming_the_fix() {
    let cases = [
        (false, "request type 5 must exist in service desk 10"),
        (true, "service desk 10 or its request type 5 does not exist"),
    ];
    for (desk_missing, says) in cases {
        let app = spawn_app_with(sim_config(), with_welcome).await;
        app.sim.state().update_facts(|f| match desk_missing {
            true => f.service_desks = Some(vec!["1".into()]),
            false => f.request_types = Some(vec!["1".into()]),
        });
        let failed = one_signup(&app, "nodesk@example.com").await;
        assert_eq!(failed["status"], "failed", "{failed}");
        assert_eq!(failed["attempts"], 1, "final, not retried: {failed}");
        let error = failed["lastError"].as_str().unwrap();
        assert!(error.contains(says), "{error}");
        assert!(error.contains("welcome_request"), "{error}");
        assert!(failed["customer"]["accountId"].is_string(), "customer kept");
        assert!(app.sim.state().issues().is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn a_403_names_the_agent_permission() {
    let app = spawn_app_with(sim_config(), |c| {
        with_welcome(c);
        c.delivery.max_attempts = 2;
    })
    .await;
    let no_agent = SimPermissions {
        desk_admin: false,
        ..SimPermissions::default()
    };
    app.sim.state().update_facts(|f| {
        f.permissions.insert("*".into(), no_agent);
    });
    let done = one_signup(&app, "noagent@example.com").await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["attempts"], 2, "a 403 is retried: {done}");
    let error = done["lastError"].as_str().unwrap();
    assert!(
        error.starts_with("jsm_permission: the credentials lack agent rights on service desk 10"),
        "{error}"
    );
    app.stop().await;
}

/// The first POST is applied by JSM, then its connection drops (`process_first`) or drops
/// before JSM applies it: the retry searches first and sends only when nothing is found.
#[tokio::test]
async fn a_lost_answer_is_searched_for_before_the_request_is_sent_again() {
    for applied in [true, false] {
        let app = spawn_app_with(sim_config(), with_welcome).await;
        app.sim.state().push_fault(fault(
            Some(1),
            REQUEST_PATH,
            FaultAction::Drop {
                process_first: applied,
            },
        ));
        let done = one_signup(&app, "lost@example.com").await;
        assert_eq!(done["status"], "created", "{done}");
        assert_eq!(done["steps"][1]["state"], "done", "{done}");
        assert_eq!(done["attempts"], 2, "{done}");
        assert_eq!(app.sim.state().issues().len(), 1, "one welcome request");
        let searches = jsm_requests(&app.sim, "GET", SEARCH_PATH);
        assert_eq!(searches.len(), 1, "applied: {applied}");
        assert_eq!(searches[0].status, Some(200));
        let posts = jsm_requests(&app.sim, "POST", REQUEST_PATH).len();
        assert_eq!(posts, if applied { 1 } else { 2 }, "applied: {applied}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_source_welcome_request_replaces_the_tenants() {
    let app = spawn_app_with(sim_config(), |c| {
        with_welcome(c);
        c.sources[0].welcome_request = Some(WelcomeRequest {
            summary: "Hi from the source".into(),
            ..welcome(11, 6)
        });
    })
    .await;
    let done = one_signup(&app, "src@example.com").await;
    assert_eq!(done["steps"][1]["name"], "welcome_request:11:6", "{done}");
    let sent = jsm_requests(&app.sim, "POST", REQUEST_PATH);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        body_of(&sent[0])["requestFieldValues"]["summary"],
        "Hi from the source"
    );
    app.stop().await;
}

crate::backends::also_on_postgres!(
    the_welcome_request_is_raised_on_the_customers_behalf_after_the_other_steps,
    a_lost_answer_is_searched_for_before_the_request_is_sent_again,
);
