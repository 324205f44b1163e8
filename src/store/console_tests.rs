//! The console's tables on both backends: sessions, single-use login links, the audit log and
//! its purge, filtered bulk retry and the email search.

use super::{AuditAction, ConsoleFilter, FailedFilter, Store};
use crate::domain::now_ms;

#[tokio::test]
async fn sessions_links_and_audit_entries_live_and_end() {
    for db in super::test_db::each("sessions_links_and_audit_entries_live_and_end").await {
        let store = Store::open(&db.url).await.unwrap();
        let now = now_ms();
        store
            .create_console_session("h1", "alice", "token", now, now + 60_000)
            .await
            .unwrap();
        let s = store.console_session("h1").await.unwrap().unwrap();
        assert_eq!(
            (s.who.as_str(), s.via.as_str(), s.last_seen_at),
            ("alice", "token", now)
        );
        store.touch_console_session("h1", now + 5).await.unwrap();
        assert_eq!(
            store
                .console_session("h1")
                .await
                .unwrap()
                .unwrap()
                .last_seen_at,
            now + 5
        );
        // Idle since before `now + 10`: purged with the expired links.
        store
            .save_login_link("l1", "sandbox", now - 1)
            .await
            .unwrap();
        store
            .save_login_link("l2", "sandbox", now + 60_000)
            .await
            .unwrap();
        assert_eq!(
            store.purge_console_sessions(now, now + 10).await.unwrap(),
            2
        );
        assert!(store.console_session("h1").await.unwrap().is_none());
        assert_eq!(
            store.spend_login_link("l2", now).await.unwrap().as_deref(),
            Some("sandbox")
        );
        assert_eq!(
            store.spend_login_link("l2", now).await.unwrap(),
            None,
            "spent once"
        );

        store
            .audit(
                "alice",
                AuditAction::BulkRetry,
                &["a".into(), "b".into()],
                Some("tenant=x"),
            )
            .await
            .unwrap();
        store
            .audit("bob", AuditAction::Erase, &[], None)
            .await
            .unwrap();
        let page = store.audit_page(None, 1).await.unwrap();
        assert_eq!(
            (page[0].who.as_str(), page[0].action.as_str()),
            ("bob", "erase")
        );
        let cursor = Some((page[0].at, page[0].id.clone()));
        let older = store.audit_page(cursor, 10).await.unwrap();
        assert_eq!(older.len(), 1);
        assert_eq!(older[0].signup_ids, ["a", "b"]);
        assert_eq!(older[0].detail.as_deref(), Some("tenant=x"));
        assert_eq!(store.purge_audit(now_ms() + 1).await.unwrap(), 2);
        store.close().await;
    }
}

#[tokio::test]
async fn bulk_retry_takes_only_the_failed_signups_its_filter_matches() {
    for db in
        super::test_db::each("bulk_retry_takes_only_the_failed_signups_its_filter_matches").await
    {
        let store = Store::open(&db.url).await.unwrap();
        let mut ids = Vec::new();
        for (n, tenant) in [(1, "acme"), (2, "acme"), (3, "other")] {
            let mut record = super::test_db::record(n, &format!("k{n}"));
            record.tenant = tenant.into();
            store.insert_signup(&record).await.unwrap();
            ids.push(record.id.clone());
        }
        let search = store.signups_by_email("U1@EXAMPLE.com", 10).await.unwrap();
        assert_eq!(search.len(), 1);
        assert_eq!(search[0].id, ids[0]);
        assert!(
            store
                .signups_by_email("u1@example", 10)
                .await
                .unwrap()
                .is_empty()
        );
        for db_id in &ids {
            sqlx::query("UPDATE signups SET status = 'failed', completed_at = $2 WHERE id = $1")
                .bind(db_id)
                .bind(now_ms())
                .execute(&store.writer)
                .await
                .unwrap();
        }
        let acme = FailedFilter {
            tenant: Some("acme".into()),
            ..Default::default()
        };
        assert_eq!(store.count_failed(&acme).await.unwrap(), 2);
        let future = FailedFilter {
            since: Some(now_ms() + 60_000),
            ..Default::default()
        };
        assert_eq!(store.count_failed(&future).await.unwrap(), 0);
        let mut requeued = store.retry_failed_matching(&acme, 5).await.unwrap();
        requeued.sort();
        assert_eq!(requeued, ids[..2]);
        assert_eq!(
            store.count_failed(&FailedFilter::default()).await.unwrap(),
            1
        );
        assert_eq!(store.retry_all_failed(5).await.unwrap(), 1);
        let pending = ConsoleFilter {
            status: Some(crate::domain::SignupStatus::Pending),
            ..Default::default()
        };
        assert_eq!(
            store
                .console_signups(&pending, None, 10)
                .await
                .unwrap()
                .len(),
            3
        );
        store.close().await;
    }
}
