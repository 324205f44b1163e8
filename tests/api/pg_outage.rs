//! A PostgreSQL that cannot serve: whatever it answers — a database not accepting connections,
//! too many clients, a read-only standby after a failover — a request gets 503
//! `storage_unavailable` with `Retry-After`, never a 500. Each test makes a database and a
//! (non-superuser) role of its own, breaks only those, and drops them after: the shared test
//! database is never touched. Skipped by name when `SIGNUP_BRIDGE_TEST_POSTGRES_URL` is unset.

use serde_json::Value;
use sqlx::postgres::{PgPool, PgPoolOptions};
use url::Url;

use super::helpers::*;
use super::postgres::URL_VAR;

/// A database owned by a login role of its own (connection limits do not bind superusers).
struct OwnDatabase {
    admin: PgPool,
    name: String,
    url: String,
}

async fn own_database(test: &str) -> Option<OwnDatabase> {
    let Ok(server) = std::env::var(URL_VAR) else {
        super::skip::skipped(test, &format!("{URL_VAR} is unset"));
        return None;
    };
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&server)
        .await
        .unwrap_or_else(|e| panic!("{URL_VAR} is set but PostgreSQL does not answer: {e}"));
    // A name of our own making (role and database alike): safe to splice into statements.
    let name = format!("outage_{}", uuid::Uuid::new_v4().simple());
    let db = OwnDatabase {
        admin,
        name: name.clone(),
        url: String::new(),
    };
    db.exec(&format!("CREATE ROLE {name} LOGIN")).await;
    db.exec(&format!("CREATE DATABASE {name} OWNER {name}"))
        .await;
    let mut url = Url::parse(&server).unwrap();
    url.set_username(&name).unwrap();
    url.set_password(None).unwrap();
    url.set_path(&format!("/{name}"));
    Some(OwnDatabase {
        url: url.to_string(),
        ..db
    })
}

impl OwnDatabase {
    async fn exec(&self, sql: &str) {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&self.admin)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// End every connection to this database (the bridge's pool reconnects afterwards).
    async fn terminate_backends(&self) {
        self.exec(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            self.name
        ))
        .await;
    }

    async fn drop(self) {
        self.exec(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .await;
        self.exec(&format!("DROP ROLE IF EXISTS {}", self.name))
            .await;
    }
}

/// A bridge on `test`'s own database takes one signup, then `break_it` runs (on that database
/// only) and its backends are terminated: each of `during` new signups is 503
/// `storage_unavailable` with `Retry-After`, and reading the first one is 200 or 503, never 500.
async fn outage(test: &str, break_it: &str, mend: &str, during: usize) {
    let Some(db) = own_database(test).await else {
        return;
    };
    let app = spawn_app_with(sim_config(), |c| {
        c.database.url = db.url.clone();
        c.database.max_connections = 2;
    })
    .await;
    let first = app
        .post_json(&signup_body("before@example.com", "Before"))
        .await;
    assert_eq!(first.status(), 201, "{test}: before the outage");
    let id = id_of(first).await;
    db.exec(&break_it.replace("{db}", &db.name)).await;
    db.terminate_backends().await;
    for n in 0..during {
        let email = format!("during-{n}@example.com");
        let response = app.post_json(&signup_body(&email, "During")).await;
        let status = response.status();
        let retry_after = response.headers().get("retry-after").cloned();
        let problem: Value = response.json().await.unwrap();
        assert_eq!(status, 503, "{test}: signup {n}: {problem}");
        assert_eq!(problem["code"], "storage_unavailable", "{test}: {problem}");
        assert!(retry_after.is_some(), "{test}: no Retry-After");
        let read = app.get_signup(&id, &app.token()).await.status();
        assert!(read == 200 || read == 503, "{test}: reading gave {read}");
    }
    db.exec(&mend.replace("{db}", &db.name)).await;
    db.terminate_backends().await;
    app.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn a_database_not_accepting_connections_is_503() {
    outage(
        "pg_outage::a_database_not_accepting_connections_is_503",
        "ALTER DATABASE {db} ALLOW_CONNECTIONS false",
        "ALTER DATABASE {db} ALLOW_CONNECTIONS true",
        3,
    )
    .await;
}

#[tokio::test]
async fn a_database_out_of_connections_is_503() {
    outage(
        "pg_outage::a_database_out_of_connections_is_503",
        "ALTER DATABASE {db} CONNECTION LIMIT 0",
        "ALTER DATABASE {db} CONNECTION LIMIT -1",
        2,
    )
    .await;
}

#[tokio::test]
async fn a_read_only_database_after_a_failover_is_503() {
    outage(
        "pg_outage::a_read_only_database_after_a_failover_is_503",
        "ALTER DATABASE {db} SET default_transaction_read_only = on",
        "ALTER DATABASE {db} RESET default_transaction_read_only",
        3,
    )
    .await;
}
