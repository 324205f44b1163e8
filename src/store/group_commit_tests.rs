//! Group commit: batching, per-write outcomes, and a failed commit answering every write.

use futures_util::future::join_all;

use super::test_db::record;
use super::{InsertOutcome, Store};

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    (dir, Store::open(&url).await.unwrap())
}

/// A store per backend for `test` (see `test_db`).
async fn stores(test: &str) -> Vec<(super::test_db::TestDb, Store)> {
    let mut stores = Vec::new();
    for db in super::test_db::each(test).await {
        let store = Store::open(&db.url).await.unwrap();
        stores.push((db, store));
    }
    stores
}

/// Hold the writer until `queued` writes wait behind the writer task's first one, then let
/// go: they all go into the next batch.
async fn hold_writer_until_queued(store: &Store, queued: usize) {
    let held = store.commits.hold().await;
    while store.commits.queued() < queued {
        tokio::task::yield_now().await;
    }
    drop(held);
}

/// A raw write through the queue: insert a signup row with `id` (no steps).
async fn raw_insert(store: &Store, id: &'static str, key: &'static str) -> Result<(), sqlx::Error> {
    store
        .commits
        .write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO signups (id, source_id, idempotency_key, fingerprint, tenant,
                         email, display_name, status, attempt_limit, next_attempt_at,
                         created_at, updated_at)
                     VALUES ($1, 'src', $2, 'fp', 't', 'raw@example.com', 'R', 'pending', 3,
                         0, 0, 0)",
                )
                .bind(id)
                .bind(key)
                .execute(conn)
                .await?;
                Ok(())
            })
        })
        .await
}

#[tokio::test]
async fn concurrent_inserts_are_committed_in_one_transaction() {
    for (_db, store) in stores("concurrent_inserts_are_committed_in_one_transaction").await {
        let before = store.write_batches();
        let writes = (0..20).map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_signup(&record(n, &format!("k{n}"))).await })
        });
        let writes: Vec<_> = writes.collect();
        // The writer task holds the first write while it waits for the connection.
        hold_writer_until_queued(&store, 19).await;
        for write in join_all(writes).await {
            assert!(matches!(
                write.unwrap().unwrap(),
                InsertOutcome::Inserted(_)
            ));
        }
        assert_eq!(store.write_batches() - before, 1, "20 inserts, one commit");
        assert_eq!(
            store
                .find_signups(&Default::default(), 100)
                .await
                .unwrap()
                .len(),
            20
        );
    }
}

#[tokio::test]
async fn a_conflicting_write_fails_alone_and_its_batch_commits() {
    for (_db, store) in stores("a_conflicting_write_fails_alone_and_its_batch_commits").await {
        raw_insert(&store, "taken", "k-taken").await.unwrap();
        let before = store.write_batches();
        let same_key = [record(1, "dup"), record(2, "dup")];
        let inserts = same_key.map(|r| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_signup(&r).await })
        });
        let conflict = {
            let store = store.clone();
            // The primary key "taken" exists: this write alone fails.
            tokio::spawn(async move { raw_insert(&store, "taken", "k-other").await })
        };
        let fine = {
            let store = store.clone();
            tokio::spawn(async move { store.insert_signup(&record(3, "fine")).await })
        };
        hold_writer_until_queued(&store, 3).await;
        let error = conflict.await.unwrap().unwrap_err();
        let unique = error
            .as_database_error()
            .is_some_and(|e| e.is_unique_violation());
        assert!(unique, "{error}");
        assert!(matches!(
            fine.await.unwrap().unwrap(),
            InsertOutcome::Inserted(_)
        ));
        let mut outcomes = Vec::new();
        for insert in join_all(inserts).await {
            outcomes.push(match insert.unwrap().unwrap() {
                InsertOutcome::Inserted(s) => ("inserted", s.id),
                InsertOutcome::Existing(s) => ("existing", s.id),
                InsertOutcome::JtiBoundElsewhere => ("jti", String::new()),
            });
        }
        outcomes.sort();
        // The second write of the same key is a replay of the first one's row.
        assert_eq!(outcomes[0].0, "existing");
        assert_eq!(outcomes[1].0, "inserted");
        assert_eq!(outcomes[0].1, outcomes[1].1);
        assert_eq!(store.write_batches() - before, 1);
        assert_eq!(
            store
                .find_signups(&Default::default(), 100)
                .await
                .unwrap()
                .len(),
            3
        );
    }
}

#[tokio::test]
async fn a_failed_commit_answers_every_write_with_an_error() {
    let (_dir, store) = open().await;
    let insert = {
        let store = store.clone();
        tokio::spawn(async move { store.insert_signup(&record(1, "lost")).await })
    };
    let poison = {
        let store = store.clone();
        // A foreign-key violation deferred to COMMIT: the savepoint succeeds, the commit fails.
        tokio::spawn(async move {
            store
                .commits
                .write(|conn| {
                    Box::pin(async move {
                        sqlx::query("PRAGMA defer_foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query(
                            "INSERT INTO signup_steps (signup_id, position, name, state, updated_at)
                             VALUES ('ghost', 0, 'create', 'pending', 0)",
                        )
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    })
                })
                .await
        })
    };
    hold_writer_until_queued(&store, 1).await;
    assert!(insert.await.unwrap().is_err(), "no success without its row");
    assert!(poison.await.unwrap().is_err());
    assert!(store.find_by_key("src", "lost").await.unwrap().is_none());
    // The writer goes on with the next batch.
    let again = store.insert_signup(&record(1, "lost")).await.unwrap();
    assert!(matches!(again, InsertOutcome::Inserted(_)));
}

#[tokio::test]
async fn a_bad_row_in_a_batch_insert_fails_alone_and_the_others_are_inserted() {
    let test = "a_bad_row_in_a_batch_insert_fails_alone_and_the_others_are_inserted";
    for (_db, store) in stores(test).await {
        let before = store.write_batches();
        // Two rows with one primary key (ids are ours, so only a bug could do this): the
        // batch's multi-row statement fails, and each row is then inserted on its own.
        let mut twin = record(1, "twin-b");
        twin.steps = vec!["create".into(), "service_desk:7".into()];
        let records = [record(1, "twin-a"), twin, record(2, "other")];
        let inserts: Vec<_> = records
            .into_iter()
            .map(|r| {
                let store = store.clone();
                tokio::spawn(async move { store.insert_signup(&r).await })
            })
            .collect();
        hold_writer_until_queued(&store, 2).await;
        let outcomes: Vec<_> = join_all(inserts)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let inserted = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(InsertOutcome::Inserted(_))))
            .count();
        let failed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
        assert_eq!((inserted, failed.len()), (2, 1), "{outcomes:?}");
        assert!(
            failed[0]
                .as_database_error()
                .is_some_and(|e| e.is_unique_violation()),
            "{}",
            failed[0]
        );
        assert_eq!(store.write_batches() - before, 1, "still one transaction");
        // Nothing half-stored: each stored signup has exactly its own steps.
        let other = store.find_by_key("src", "other").await.unwrap().unwrap();
        assert_eq!(other.steps.len(), 1);
        let stored = store.find_signups(&Default::default(), 100).await.unwrap();
        assert_eq!(stored.len(), 2);
        for signup in stored {
            let full = store.signup(&signup.id).await.unwrap().unwrap();
            assert_eq!(full.steps.len(), 1, "{:?}", full.steps);
        }
    }
}
