//! Rules 1 and 2: English messages, and finding an existing customer (user search plus the
//! desk customer search; accounts shown but unreadable end at once; an empty answer is
//! retried within the index-lag allowance; either way `account_unreadable`).

use std::time::Duration;

use serde_json::Value;
use signup_bridge::config::IdOrKey;
use signup_bridge::sim::{SimLanguage, SimPermissions};

use crate::helpers::*;

const SEARCH: &str = "/rest/api/3/user/search";

async fn signup(app: &TestApp, email: &str, key: &str) -> Value {
    let response = app
        .post(
            &signup_body(email, "Fred").to_string(),
            "application/json",
            &[("Idempotency-Key", key)],
        )
        .await;
    let id = id_of(response).await;
    app.wait_final(&id, Duration::from_secs(20)).await
}

fn no_browse_users(desk_admin: bool) -> SimPermissions {
    SimPermissions {
        administer: true,
        user_picker: false,
        desk_admin,
    }
}

#[tokio::test]
async fn every_call_asks_for_english_and_a_german_site_still_resolves_duplicates() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].service_desk_ids = vec![IdOrKey::Number(10)];
    })
    .await;
    app.sim
        .state()
        .update_facts(|f| f.language = SimLanguage::De);
    let first = signup(&app, "fred@example.com", "a").await;
    assert_eq!(first["status"], "created", "{first}");
    let second = signup(&app, "FRED@example.com", "b").await;
    assert_eq!(second["status"], "existing", "{second}");
    assert_eq!(
        second["customer"]["accountId"],
        first["customer"]["accountId"]
    );
    let requests = app.sim.state().requests();
    assert!(requests.len() >= 5, "{}", requests.len());
    for r in &requests {
        assert!(
            r.query.split('&').any(|p| p == "requestLanguage=en-US"),
            "{} {}?{}",
            r.method,
            r.path,
            r.query
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn accounts_shown_but_unreadable_end_at_once_as_account_unreadable() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].service_desk_ids = vec![IdOrKey::Number(10)];
    })
    .await;
    assert_eq!(
        signup(&app, "hid@example.com", "a").await["status"],
        "created"
    );
    app.sim.state().set_hide_emails(true);
    let second = signup(&app, "hid@example.com", "b").await;
    assert_eq!(second["status"], "existing", "{second}");
    assert_eq!(second["customer"], Value::Null);
    assert_eq!(second["steps"][1]["state"], "skipped");
    let reason = second["lastError"].as_str().unwrap_or_default();
    assert!(reason.starts_with("account_unreadable: "), "{second}");
    assert_eq!(
        jsm_requests(&app.sim, "GET", SEARCH).len(),
        1,
        "never searched again"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_empty_search_is_retried_within_the_index_lag_allowance_then_unreadable() {
    let app = spawn_app().await;
    assert_eq!(
        signup(&app, "lag@example.com", "a").await["status"],
        "created"
    );
    // Without Browse users and groups JSM answers every search with an empty list.
    app.sim.state().update_facts(|f| {
        f.permissions
            .insert(JSM_EMAIL.into(), no_browse_users(true));
    });
    let second = signup(&app, "lag@example.com", "b").await;
    assert_eq!(second["status"], "existing", "{second}");
    assert_eq!(second["customer"], Value::Null);
    assert_eq!(second["attempts"], 3, "{second}");
    assert!(
        second["lastError"]
            .as_str()
            .is_some_and(|e| e.starts_with("account_unreadable: ")),
        "{second}"
    );
    assert_eq!(jsm_requests(&app.sim, "GET", SEARCH).len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn the_desk_customer_search_finds_what_the_user_search_cannot() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].service_desk_ids = vec![IdOrKey::Number(10)];
    })
    .await;
    let first = signup(&app, "desk@example.com", "a").await;
    assert_eq!(first["steps"][1]["state"], "done", "{first}");
    app.sim.state().update_facts(|f| {
        f.permissions
            .insert(JSM_EMAIL.into(), no_browse_users(true));
    });
    let second = signup(&app, "desk@example.com", "b").await;
    assert_eq!(second["status"], "existing", "{second}");
    assert_eq!(
        second["customer"]["accountId"],
        first["customer"]["accountId"]
    );
    assert_eq!(second["steps"][1]["state"], "done");
    assert_eq!(second["lastError"], Value::Null);
    let desk_search: Vec<_> = jsm_requests(&app.sim, "GET", "/servicedesk/10/customer");
    assert_eq!(desk_search.len(), 1);
    assert_eq!(desk_search[0].x_experimentalapi.as_deref(), Some("opt-in"));
    app.stop().await;
}

#[tokio::test]
async fn signups_show_says_why_the_account_is_unreadable() {
    let app = spawn_app().await;
    assert_eq!(
        signup(&app, "show@example.com", "a").await["status"],
        "created"
    );
    app.sim.state().set_hide_emails(true);
    let second = signup(&app, "show@example.com", "b").await;
    let id = second["id"].as_str().unwrap();
    // The CLI reads the running app's database, as an operator would.
    let database = app.config.database.url.clone();
    let config =
        crate::process::write_config_on(app.dir.path(), &database, "", &app.sim.base_url, "", "");
    let (code, stdout, stderr) = crate::process::run_cli(&config, &["signups", "show", id]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("account_unreadable"), "{stdout}");
    assert!(stdout.contains("whose email it hides"), "{stdout}");
    app.stop().await;
}
