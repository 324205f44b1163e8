//! The audit log page (newest first, 50 a page, the next page by a cursor of the last entry),
//! and sessions shared by every instance on one database.

use signup_bridge::store::AuditAction;

use crate::console_helpers::{ALICE, Console, console_app};

#[tokio::test]
async fn the_audit_log_pages_newest_first() {
    let app = console_app(|_| {}).await;
    for i in 0..52 {
        let ids = [format!("signup-{i}")];
        app.store
            .audit("carol", AuditAction::Retry, &ids, None)
            .await
            .unwrap();
    }
    // Signing in is the 53rd entry, the newest.
    let console = Console::signed_in(&app, ALICE).await;
    let first = console.page("/console/audit").await;
    let newest = first
        .find("<td>alice</td><td>login</td>")
        .expect("the sign-in");
    let latest_retry = first.find("signup-51").unwrap();
    assert!(newest < latest_retry, "newest first");
    assert!(!first.contains("signup-2<") && !first.contains(">signup-1<"));
    let at = first.find("rel=\"next\"").expect("an older page");
    let start = first[..at].rfind("href=\"").unwrap() + 6;
    let href = first[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    let second = console.page(&href).await;
    assert_eq!(second.matches("<td>carol</td>").count(), 3, "{second}");
    assert!(second.contains(">signup-0<") && !second.contains("rel=\"next\""));
    app.stop().await;
}

/// A session lives in the database: another instance on it (or the same one after a restart)
/// honours the cookie, and a logout on one ends it on both.
#[tokio::test]
async fn a_session_is_honoured_by_every_instance_on_the_database() {
    let first = console_app(|_| {}).await;
    let sim = crate::helpers::start_sim(crate::helpers::sim_config()).await;
    let second =
        crate::helpers::spawn_bridge(sim, tempfile::tempdir().unwrap(), first.config.clone()).await;
    let on_first = Console::signed_in(&first, ALICE).await;
    let mut on_second = Console::new(&second);
    on_second.cookie = on_first.cookie.clone();
    assert!(
        on_second
            .page("/console/")
            .await
            .contains("<strong>alice</strong>")
    );
    let logout = on_second.post("/console/logout", &[]).await;
    assert_eq!(logout.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(
        on_first.get("/console/").await.status(),
        reqwest::StatusCode::SEE_OTHER
    );
    second.stop().await;
    first.stop().await;
}

crate::backends::also_on_postgres!(a_session_is_honoured_by_every_instance_on_the_database);

/// The purge task removes audit entries older than `audit_retention` (and ended sessions).
#[tokio::test]
async fn the_purge_task_drops_audit_entries_past_their_retention() {
    let app = console_app(|c| {
        // The purge runs every min(retention, 1 minute): make it run every second.
        c.idempotency.retention = std::time::Duration::from_secs(1);
        c.console.audit_retention = std::time::Duration::from_millis(1);
    })
    .await;
    Console::signed_in(&app, ALICE).await;
    let mut left = usize::MAX;
    for _ in 0..200 {
        left = app.store.audit_page(None, 10).await.unwrap().len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the sign-in's entry is purged");
    app.stop().await;
}
