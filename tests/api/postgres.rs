//! PostgreSQL for tests: `SIGNUP_BRIDGE_TEST_POSTGRES_URL` names a server (for example
//! `postgres://postgres@127.0.0.1:5432/test`) and every test gets a schema of its own. Unset,
//! a test says by name that it is skipped and passes; set but unreachable, it fails.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub const URL_VAR: &str = "SIGNUP_BRIDGE_TEST_POSTGRES_URL";

/// A fresh schema on the test server; `pool`'s connections have it as their search path.
/// Dropped with the value when the test passes; kept (and named on stderr) when it fails.
pub struct TestSchema {
    pub pool: PgPool,
    guard: SchemaGuard,
}

/// Drops its schema when it goes out of scope, unless the thread is panicking (a failing
/// test): then the schema stays for a look, and the message says which one.
pub struct SchemaGuard {
    name: String,
    server_url: String,
    test: String,
}

/// The schema for `test`, or `None` (after saying so) when no server is configured.
pub async fn test_schema(test: &str) -> Option<TestSchema> {
    let Ok(url) = std::env::var(URL_VAR) else {
        super::skip::skipped(test, &format!("{URL_VAR} is unset"));
        return None;
    };
    let options: PgConnectOptions = url
        .parse()
        .unwrap_or_else(|e| panic!("{URL_VAR} is not a PostgreSQL URL: {e}"));
    let connect = |options: PgConnectOptions| {
        PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
    };
    let admin = connect(options.clone())
        .await
        .unwrap_or_else(|e| panic!("{URL_VAR} is set but PostgreSQL does not answer: {e}"));
    // A name of our own making: safe to splice into the statement.
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let pool = connect(options.options([("search_path", name.as_str())]))
        .await
        .unwrap();
    Some(TestSchema {
        pool,
        guard: SchemaGuard {
            name,
            server_url: url,
            test: test.to_string(),
        },
    })
}

/// `url` with `schema` as the search path of every connection (sqlx's form for a server
/// setting), as a bridge's `database.url` takes it.
pub fn schema_url(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options[search_path]={schema}")
}

impl TestSchema {
    /// The `database.url` of a bridge that stores into this schema.
    pub fn url(&self) -> String {
        schema_url(&self.guard.server_url, &self.guard.name)
    }

    /// Close the pool and drop the schema now (dropping the value does the same).
    pub async fn drop(self) {
        self.pool.close().await;
    }

    /// The guard alone, for a caller that hands the URL on and keeps the schema until the
    /// test ends (the pool is closed).
    pub async fn into_guard(self) -> SchemaGuard {
        self.pool.close().await;
        self.guard
    }
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "kept PostgreSQL schema {} of the failed test {} to look at \
                 (psql -d {} -c 'SET search_path = {}' …; .ci/run drops every test_ schema first)",
                self.name,
                self.test,
                redacted(&self.server_url),
                self.name
            );
            return;
        }
        let (name, url) = (self.name.clone(), self.server_url.clone());
        // A thread of its own: this may run inside a test's runtime, which cannot block on
        // another future, or after it has gone.
        let dropped = std::thread::spawn(move || drop_schema(&url, &name))
            .join()
            .unwrap_or_else(|_| Err("the dropping thread panicked".into()));
        if let Err(e) = dropped {
            // Past libtest's capture: the test passed, and its output would be hidden.
            super::skip::notice(&format!(
                "could not drop PostgreSQL schema {} of {}: {e}",
                self.name, self.test
            ));
        }
    }
}

fn drop_schema(url: &str, name: &str) -> Result<(), String> {
    use sqlx::Connection as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut connection = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        // A bridge process being killed may still hold a lock for a moment; never hang on it.
        sqlx::query("SET lock_timeout = '20s'")
            .execute(&mut connection)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE")))
            .execute(&mut connection)
            .await
            .map_err(|e| e.to_string())?;
        let _ = connection.close().await;
        Ok(())
    })
}

/// The server URL without user-info or query, for a message.
pub fn redacted(url: &str) -> String {
    signup_bridge::config::redact_url(url).into_owned()
}

#[test]
fn a_schema_url_adds_the_search_path_to_the_query() {
    assert_eq!(
        schema_url("postgres://postgres@127.0.0.1:5432/test", "test_a"),
        "postgres://postgres@127.0.0.1:5432/test?options[search_path]=test_a"
    );
    assert_eq!(
        schema_url("postgres://db/test?sslmode=disable", "test_b"),
        "postgres://db/test?sslmode=disable&options[search_path]=test_b"
    );
}
