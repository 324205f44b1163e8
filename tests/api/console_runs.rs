//! A signup's failed runs on its console page: each with its run number, outcome, category and
//! masked detail, recorded with the run's outcome (on both backends).

use std::time::Duration;

use crate::backends::also_on_postgres;
use crate::console_helpers::{ALICE, CUSTOMER_PATH, Console, console_app, failed_signup};
use crate::helpers::{fault, id_of, signup_body, status};

#[tokio::test]
async fn the_signup_page_lists_each_failed_run() {
    let app = console_app(|_| {}).await;
    app.sim
        .state()
        .push_fault(fault(Some(2), CUSTOMER_PATH, status(503, None)));
    let id = id_of(
        app.post_json(&signup_body("dino@example.com", "Dino"))
            .await,
    )
    .await;
    let body = app.wait_final(&id, Duration::from_secs(30)).await;
    assert_eq!(body["status"], "created", "{body}");
    let runs = app.store.signup_attempts(&id, 50).await.unwrap();
    let seen: Vec<_> = runs.iter().map(|r| (r.run, r.outcome.as_str())).collect();
    assert_eq!(seen, [(1, "retry"), (2, "retry")]);
    assert!(
        runs.iter().all(|r| r.error.starts_with("jsm_unavailable:")),
        "{runs:?}"
    );

    let failed = failed_signup(&app, "pebbles@example.com").await;
    let console = Console::signed_in(&app, ALICE).await;
    let page = console.page(&format!("/console/signups/{id}")).await;
    assert_eq!(page.matches("<td>retry</td>").count(), 2, "{page}");
    assert!(page.contains("<td>jsm_unavailable: "));
    let page = console.page(&format!("/console/signups/{failed}")).await;
    assert!(
        page.contains("<td>1</td>") && page.contains("<td>failed</td>"),
        "{page}"
    );
    assert!(page.contains("<td>rejected: ") && !page.contains("pebbles@example.com"));
    app.stop().await;
}

also_on_postgres!(the_signup_page_lists_each_failed_run);

/// A 429 pauses the tenant: the overview says until when and why.
#[tokio::test]
async fn the_overview_shows_a_tenant_paused_by_a_429() {
    let app = console_app(|_| {}).await;
    app.sim
        .state()
        .push_fault(fault(Some(1), CUSTOMER_PATH, status(429, Some(600))));
    let response = app.post_json(&signup_body("bambam@example.com", "B")).await;
    assert_eq!(response.status(), reqwest::StatusCode::ACCEPTED);
    let console = Console::signed_in(&app, ALICE).await;
    let overview = console.page("/console/").await;
    assert!(overview.contains("state paused"), "{overview}");
    assert!(overview.contains("JSM answered 429 Too Many Requests"));
    app.stop().await;
}
