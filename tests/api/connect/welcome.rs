//! The welcome request through a Connect installation under a Jira context path: the simulator
//! verifies each call's Connect JWT, the qsh of the JQL search's query included.

use std::time::Duration;

use signup_bridge::config::{IdOrKey, WelcomeRequest};
use signup_bridge::sim::FaultAction;

use super::*;
use crate::helpers::{fault, id_of, jsm_requests, poll_signup, token_for};

#[tokio::test]
async fn the_welcome_request_and_its_search_are_signed_for_the_installation() {
    let app = spawn_connect_app(
        "/jira",
        |_| CLIENT_KEY.to_string(),
        |c| {
            let shop = c.sources.iter_mut().find(|s| s.id == SHOP).unwrap();
            shop.welcome_request = Some(WelcomeRequest {
                service_desk_id: IdOrKey::Number(3),
                request_type_id: IdOrKey::Number(4),
                summary: "Welcome, {displayName}".into(),
                description: String::new(),
            });
        },
    )
    .await;
    let report = lifecycle(&app, "installed", CLIENT_KEY, Some("secret-one")).await;
    assert_eq!(report.status, 204);
    // The first answer is lost after JSM raised the request: the next run searches.
    app.sim.state().push_fault(fault(
        Some(1),
        "/servicedeskapi/request",
        FaultAction::Drop {
            process_first: true,
        },
    ));
    let id = id_of(shop_signup(&app, "connect@example.com").await).await;
    let token = token_for(SHOP, SHOP_SECRET);
    let done = poll_signup(
        &app.client,
        &app.address,
        &id,
        &token,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(done["status"], "created", "{done}");
    assert_eq!(done["steps"][1]["state"], "done", "{done}");
    let searches = jsm_requests(&app.sim, "GET", "/rest/api/3/search/jql");
    assert_eq!(searches.len(), 1);
    assert!(searches[0].path.starts_with("/jira/"), "{:?}", searches[0]);
    assert_eq!(searches[0].status, Some(200), "the JWT's qsh was accepted");
    assert!(
        searches[0]
            .authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("JWT "))
    );
    assert_eq!(app.sim.state().issues().len(), 1);
    assert_eq!(
        jsm_requests(&app.sim, "POST", "/servicedeskapi/request").len(),
        1
    );
    app.stop().await;
}
