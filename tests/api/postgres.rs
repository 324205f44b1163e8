//! PostgreSQL for tests: `SIGNUP_BRIDGE_TEST_POSTGRES_URL` names a server (for example
//! `postgres://postgres@127.0.0.1:5432/test`) and every test gets a schema of its own. Unset,
//! a test says by name that it is skipped and passes; set but unreachable, it fails.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub const URL_VAR: &str = "SIGNUP_BRIDGE_TEST_POSTGRES_URL";

/// A fresh schema on the test server; `pool`'s connections have it as their search path.
pub struct TestSchema {
    pub pool: PgPool,
    admin: PgPool,
    name: String,
    server_url: String,
}

/// The schema for `test`, or `None` (after saying so) when no server is configured.
pub async fn test_schema(test: &str) -> Option<TestSchema> {
    let Ok(url) = std::env::var(URL_VAR) else {
        eprintln!("skipped: {test} ({URL_VAR} is unset)");
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
    let pool = connect(options.options([("search_path", name.as_str())]))
        .await
        .unwrap();
    Some(TestSchema {
        pool,
        admin,
        name,
        server_url: url,
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
        schema_url(&self.server_url, &self.name)
    }

    /// Drop the schema (a failed test leaves its schema behind to look at).
    pub async fn drop(self) {
        self.pool.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.name
        )))
        .execute(&self.admin)
        .await
        .unwrap();
    }
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
