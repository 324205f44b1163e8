//! Store tests on both backends: a SQLite file in a temporary directory, and a fresh schema on
//! the PostgreSQL server named by `SIGNUP_BRIDGE_TEST_POSTGRES_URL` — skipped by name when it is
//! unset, failing when it is set and the server does not answer.

use sqlx::Connection;

use super::NewSignupRecord;
use super::backend::Backend;

const URL_VAR: &str = "SIGNUP_BRIDGE_TEST_POSTGRES_URL";

/// One database for one test.
pub(crate) struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: tempfile::TempDir,
}

/// A database per backend for `test`: SQLite always, PostgreSQL when configured.
pub(crate) async fn each(test: &str) -> Vec<TestDb> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = TestDb {
        url: format!("sqlite://{}", dir.path().join("t.db").display()),
        backend: Backend::Sqlite,
        _dir: dir,
    };
    let Ok(server) = std::env::var(URL_VAR) else {
        eprintln!("skipped: {test} on PostgreSQL ({URL_VAR} is unset)");
        return vec![sqlite];
    };
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("{URL_VAR} is set but PostgreSQL does not answer: {e}"));
    // A name of our own making: safe to splice into the statement.
    let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
    let create = format!("CREATE SCHEMA {schema}");
    sqlx::query(sqlx::AssertSqlSafe(create))
        .execute(&mut admin)
        .await
        .expect("a test schema");
    let separator = if server.contains('?') { '&' } else { '?' };
    let postgres = TestDb {
        url: format!("{server}{separator}options[search_path]={schema}"),
        backend: Backend::Postgres,
        _dir: tempfile::tempdir().expect("a temporary directory"),
    };
    vec![sqlite, postgres]
}

/// A one-step signup of tenant `t`, source `src`, numbered `n`, under `key`.
pub(crate) fn record(n: usize, key: &str) -> NewSignupRecord {
    NewSignupRecord {
        id: format!("id-{n}"),
        source_id: "src".into(),
        idempotency_key: key.into(),
        fingerprint: format!("fp-{key}"),
        tenant: "t".into(),
        email: format!("u{n}@example.com"),
        display_name: "U".into(),
        steps: vec!["create".into()],
        trace_parent: None,
        attempt_limit: 3,
        not_before: None,
        jti: None,
    }
}
