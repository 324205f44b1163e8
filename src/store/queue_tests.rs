//! Two processes on one database (two `Store`s on one file or schema): claims never overlap and
//! never exceed the tenant's concurrency together; pauses and call slots are shared.

use futures_util::future::join_all;

use super::Store;
use super::test_db::record;
use crate::domain::now_ms;

#[tokio::test]
async fn two_processes_claim_disjoint_signups_within_the_tenant_concurrency() {
    for db in super::test_db::each("two_processes_claim_disjoint_signups").await {
        let (a, b) = (
            Store::open(&db.url).await.unwrap(),
            Store::open(&db.url).await.unwrap(),
        );
        for n in 0..10 {
            a.insert_signup(&record(n, &format!("key-{n}")))
                .await
                .unwrap();
        }
        let lease_until = now_ms() + 60_000;
        let claims = join_all((0..6).map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            async move {
                let owner = format!("worker-{i}");
                store
                    .claim_due(&owner, "t", 10, 4, lease_until)
                    .await
                    .unwrap()
            }
        }))
        .await;
        let mut ids: Vec<_> = claims
            .iter()
            .flatten()
            .map(|c| c.signup.id.clone())
            .collect();
        assert_eq!(ids.len(), 4, "{:?}: {ids:?}", db.backend);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4, "a signup claimed twice on {:?}", db.backend);
        assert!(
            b.claim_due("late", "t", 10, 4, lease_until)
                .await
                .unwrap()
                .is_empty()
        );

        // A finished run frees its slot for any process.
        let done = claims.iter().flatten().next().unwrap();
        a.release(&done.signup.id, &done.lease).await.unwrap();
        let next = b.claim_due("late", "t", 10, 4, lease_until).await.unwrap();
        assert_eq!(next.len(), 1, "{:?}", db.backend);
        a.close().await;
        b.close().await;
    }
}

#[tokio::test]
async fn a_pause_and_call_slots_are_shared_between_processes() {
    for db in super::test_db::each("a_pause_and_call_slots_are_shared").await {
        let (a, b) = (
            Store::open(&db.url).await.unwrap(),
            Store::open(&db.url).await.unwrap(),
        );
        let now = now_ms();
        let mut slots = Vec::new();
        for i in 0..6 {
            let store = if i % 2 == 0 { &a } else { &b };
            let (slot, hold) = store.reserve_call_slot("t", now, 100).await.unwrap();
            assert_eq!(hold, None);
            slots.push(slot - now);
        }
        assert_eq!(slots, vec![0, 100, 200, 300, 400, 500], "{:?}", db.backend);

        a.hold_tenant("t", now + 5_000).await.unwrap();
        a.hold_tenant("t", now + 1_000).await.unwrap();
        assert_eq!(b.tenant_hold("t").await.unwrap(), Some(now + 5_000));
        let (_, hold) = b.reserve_call_slot("t", now, 100).await.unwrap();
        assert_eq!(hold, Some(now + 5_000), "{:?}", db.backend);
        assert_eq!(b.tenant_hold("other").await.unwrap(), None);
        a.close().await;
        b.close().await;
    }
}

#[tokio::test]
async fn batches_that_insert_the_same_keys_in_opposite_orders_both_succeed() {
    let test = "batches_that_insert_the_same_keys_in_opposite_orders_both_succeed";
    for db in super::test_db::each(test).await {
        let (a, b) = (
            Store::open(&db.url).await.unwrap(),
            Store::open(&db.url).await.unwrap(),
        );
        // Each process's next batch holds both keys, in opposite orders: on PostgreSQL one
        // batch is chosen as a deadlock victim, and its write must run again, not fail.
        let (hold_a, hold_b) = (a.commits.hold().await, b.commits.hold().await);
        let write = |store: &Store, n: usize, key: &'static str| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_signup(&record(n, key)).await })
        };
        let writes = [
            write(&a, 1, "k1"),
            write(&b, 2, "k2"),
            write(&a, 3, "k2"),
            write(&b, 4, "k1"),
        ];
        while a.commits.queued() + b.commits.queued() < 2 {
            tokio::task::yield_now().await;
        }
        drop((hold_a, hold_b));
        for outcome in join_all(writes).await {
            outcome
                .unwrap()
                .unwrap_or_else(|e| panic!("{:?}: {e}", db.backend));
        }
        assert_eq!(
            a.find_signups(&Default::default(), 10).await.unwrap().len(),
            2
        );
        a.close().await;
        b.close().await;
    }
}

#[tokio::test]
async fn postgresql_connections_follow_the_pool_settings() {
    for db in super::test_db::each("postgresql_connections_follow_the_pool_settings").await {
        if db.backend != super::Backend::Postgres {
            continue;
        }
        // Migrated first with the defaults: a loaded machine may take longer than this test's
        // timeout to apply them, and the timeout is what is under test, not the migrations.
        Store::open_with(&db.url, None, super::PoolSettings::default())
            .await
            .unwrap()
            .close()
            .await;
        let settings = super::PoolSettings {
            max_connections: 3,
            statement_timeout: std::time::Duration::from_secs(1),
        };
        let store = Store::open_with(&db.url, None, settings).await.unwrap();
        assert_eq!(store.reader.options().get_max_connections(), 3);
        let error = sqlx::query("SELECT 1 FROM pg_sleep(20)")
            .execute(&store.reader)
            .await
            .unwrap_err();
        let code = error.as_database_error().and_then(|e| e.code());
        assert_eq!(code.as_deref(), Some("57014"), "{error}");
        store.close().await;
    }
}
