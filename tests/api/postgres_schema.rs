//! The PostgreSQL schema (migrations/postgres) against a real server: it applies, it has every
//! table, column and index the SQLite migrations build, and it keeps one signup per
//! (source, key).

use std::collections::BTreeSet;

use sqlx::Row;
use sqlx::sqlite::SqlitePool;

use crate::postgres::test_schema;

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// (table, column, not null) of every table but the migrator's own.
type Columns = BTreeSet<(String, String, bool)>;

async fn sqlite_schema() -> (Columns, BTreeSet<String>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("schema.db").display());
    signup_bridge::store::Store::open(&url)
        .await
        .unwrap()
        .close()
        .await;
    let pool = SqlitePool::connect(&url).await.unwrap();
    let columns = sqlx::query(
        "SELECT m.name, p.name, p.\"notnull\" FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE '\\_%' ESCAPE '\\'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), r.get(1), r.get::<i64, _>(2) == 1))
    .collect();
    let indexes =
        sqlx::query("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.get(0))
            .collect();
    (columns, indexes)
}

#[tokio::test]
async fn postgres_schema_has_every_sqlite_table_column_and_index() {
    let Some(db) = test_schema("postgres_schema_has_every_sqlite_table_column_and_index").await
    else {
        return;
    };
    POSTGRES.run(&db.pool).await.unwrap();
    let columns: Columns = sqlx::query(
        "SELECT table_name::text, column_name::text, is_nullable = 'NO'
         FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_%'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect();
    let indexes: BTreeSet<String> =
        sqlx::query("SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema()")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.get(0))
            .collect();
    let (sqlite_columns, sqlite_indexes) = sqlite_schema().await;
    assert_eq!(columns, sqlite_columns);
    let missing: Vec<_> = sqlite_indexes.difference(&indexes).collect();
    assert!(
        missing.is_empty(),
        "indexes missing on PostgreSQL: {missing:?}"
    );
    db.drop().await;
}

#[tokio::test]
async fn postgres_schema_keeps_one_signup_per_source_and_key() {
    let Some(db) = test_schema("postgres_schema_keeps_one_signup_per_source_and_key").await else {
        return;
    };
    POSTGRES.run(&db.pool).await.unwrap();
    let insert = |id: &'static str, status: &'static str| {
        sqlx::query(
            "INSERT INTO signups (id, source_id, idempotency_key, fingerprint, tenant, email,
                 display_name, status, attempt_limit, next_attempt_at, created_at, updated_at)
             VALUES ($1, 'web', 'k1', 'f', 't', 'a@b.co', 'A', $2, 5, 0, 0, 0)
             ON CONFLICT (source_id, idempotency_key) DO NOTHING",
        )
        .bind(id)
        .bind(status)
        .execute(&db.pool)
    };
    assert_eq!(insert("s1", "pending").await.unwrap().rows_affected(), 1);
    // The same (source, key) from another instance: no second row.
    assert_eq!(insert("s2", "pending").await.unwrap().rows_affected(), 0);
    // A status outside the four is refused by the schema.
    sqlx::query("UPDATE signups SET status = 'lost' WHERE id = 's1'")
        .execute(&db.pool)
        .await
        .unwrap_err();
    db.drop().await;
}
