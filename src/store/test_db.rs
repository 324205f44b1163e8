//! Store tests on both backends: a SQLite file in a temporary directory, and a fresh schema on
//! the PostgreSQL server named by `SIGNUP_BRIDGE_TEST_POSTGRES_URL` — skipped by name when it is
//! unset, failing when it is set and the server does not answer. A PostgreSQL schema is
//! dropped when its test passes and kept, named on stderr, when it fails.

use std::io::Write as _;

use sqlx::Connection;

use super::NewSignupRecord;
use super::backend::Backend;

const URL_VAR: &str = "SIGNUP_BRIDGE_TEST_POSTGRES_URL";

/// One database for one test.
pub(crate) struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: tempfile::TempDir,
    /// PostgreSQL: (server URL, schema), dropped with this value unless the test fails.
    schema: Option<(String, String)>,
    test: String,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, schema)) = self.schema.take() else {
            return;
        };
        if std::thread::panicking() {
            eprintln!(
                "kept PostgreSQL schema {schema} of the failed test {} to look at",
                self.test
            );
            return;
        }
        // A thread of its own: this runs inside the test's runtime, which cannot block on
        // another future.
        let name = schema.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&server)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query("SET lock_timeout = '20s'")
                    .execute(&mut admin)
                    .await
                    .map_err(|e| e.to_string())?;
                let drop = format!("DROP SCHEMA {name} CASCADE");
                sqlx::query(sqlx::AssertSqlSafe(drop))
                    .execute(&mut admin)
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = admin.close().await;
                Ok::<(), String>(())
            })
        })
        .join()
        .unwrap_or_else(|_| Err("the dropping thread panicked".into()));
        if let Err(e) = dropped {
            // Past libtest's capture: the test passed, and its output would be hidden.
            let line = format!("could not drop PostgreSQL schema {schema}: {e}\n");
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

/// A database per backend for `test`: SQLite always, PostgreSQL when configured.
pub(crate) async fn each(test: &str) -> Vec<TestDb> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = TestDb {
        url: format!("sqlite://{}", dir.path().join("t.db").display()),
        backend: Backend::Sqlite,
        _dir: dir,
        schema: None,
        test: test.to_string(),
    };
    let Ok(server) = std::env::var(URL_VAR) else {
        // Past libtest's capture, so `cargo test` shows it and `.ci/run` counts it skipped.
        let line = format!("SKIPPED: {test} on PostgreSQL ({URL_VAR} is unset; SQLite ran)\n");
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
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
        schema: Some((server.clone(), schema)),
        test: test.to_string(),
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
