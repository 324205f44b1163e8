//! The audit log page: newest first, 50 a page, the next page by a cursor of the last entry.

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
