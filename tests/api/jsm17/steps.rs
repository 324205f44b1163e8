//! Rule 3: a 404 on a desk or organization step is final (the customer kept, `signups retry`
//! resumes at that step); a 403 names the permission the call needs and is retried.

use std::time::Duration;

use serde_json::Value;
use signup_bridge::config::IdOrKey;
use signup_bridge::sim::SimPermissions;

use crate::helpers::*;

async fn one_signup(app: &TestApp, email: &str) -> Value {
    let id = id_of(app.post_json(&signup_body(email, "Step User")).await).await;
    app.wait_final(&id, Duration::from_secs(20)).await
}

#[tokio::test]
async fn a_missing_desk_fails_the_signup_at_once_and_retry_resumes_there() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].service_desk_ids = vec![IdOrKey::Number(12)];
        c.tenants[0].organization_ids = vec![IdOrKey::Number(7)];
    })
    .await;
    app.sim
        .state()
        .update_facts(|f| f.service_desks = Some(vec!["1".into()]));
    let failed = one_signup(&app, "desk404@example.com").await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        failed["lastError"],
        "not_found: service desk 12 does not exist or cannot be seen by these credentials"
    );
    assert!(
        failed["customer"]["accountId"].is_string(),
        "customer kept: {failed}"
    );
    assert_eq!(failed["attempts"], 1, "final, not retried");
    assert_eq!(
        jsm_requests(&app.sim, "POST", "/servicedesk/12/customer").len(),
        1
    );

    // The operator fixes the desk; the retry resumes at the desk step, never a second create.
    app.sim.state().update_facts(|f| f.service_desks = None);
    app.sim
        .state()
        .update_facts(|f| f.organizations = Some(vec!["8".into()]));
    let id = failed["id"].as_str().unwrap();
    app.store.retry_signup(id, 2).await.unwrap();
    let again = app.wait_final(id, Duration::from_secs(20)).await;
    assert_eq!(again["status"], "failed", "{again}");
    assert_eq!(
        again["lastError"],
        "not_found: organization 7 does not exist or cannot be seen by these credentials"
    );
    assert_eq!(again["steps"][1]["state"], "done", "{again}");
    app.sim.state().update_facts(|f| f.organizations = None);
    app.store.retry_signup(id, 2).await.unwrap();
    let done = app.wait_final(id, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "created", "{done}");
    assert_eq!(app.creates().len(), 1);
    assert_eq!(app.sim.state().customers()[0].organizations, ["7"]);
    app.stop().await;
}

#[tokio::test]
async fn a_403_names_the_permission_and_is_retried_until_granted() {
    let app = spawn_app().await;
    let denied = SimPermissions {
        administer: false,
        ..SimPermissions::default()
    };
    app.sim.state().update_facts(|f| {
        f.permissions.insert(JSM_EMAIL.into(), denied);
    });
    let response = app.post_json(&signup_body("perm@example.com", "P")).await;
    let id = id_of(response).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app.creates().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pending: Value = app
        .get_signup(&id, &app.token())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["status"], "pending", "retried: {pending}");
    assert_eq!(
        pending["lastError"],
        "jsm_permission: the credentials lack the Jira Administrators global permission \
         (ADMINISTER) the customer create needs (403) (step create)"
    );
    // An admin grants it; no restart.
    app.sim.state().update_facts(|f| f.permissions.clear());
    let done = app.wait_final(&id, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "created", "{done}");
    app.stop().await;
}

#[tokio::test]
async fn a_desk_403_names_the_desk_admin() {
    let app = spawn_app_with(sim_config(), |c| {
        c.tenants[0].service_desk_ids = vec![IdOrKey::Number(5)];
        c.delivery.max_attempts = 2;
    })
    .await;
    let no_desk = SimPermissions {
        desk_admin: false,
        ..SimPermissions::default()
    };
    app.sim.state().update_facts(|f| {
        f.permissions.insert("*".into(), no_desk);
    });
    let done = one_signup(&app, "deskperm@example.com").await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["attempts"], 2, "retried up to max_attempts");
    let error = done["lastError"].as_str().unwrap();
    assert!(
        error.starts_with("jsm_permission: the credentials lack admin rights on service desk 5"),
        "{error}"
    );
    app.stop().await;
}
