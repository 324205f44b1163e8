//! Opening a backend's pools and applying its migrations (`migrations/sqlite`,
//! `migrations/postgres`).
//!
//! SQLite: one writer connection (`synchronous = FULL`, WAL) and four read-only readers, the
//! file owner-only. PostgreSQL: one pool for both, sized by `database.max_connections`, every
//! connection bounded by `database.statement_timeout`. Migrations run under the migrator's lock,
//! so instances starting together apply them once.

use std::str::FromStr;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, Executor};

use super::backend::{Backend, PoolSettings};
use super::file_mode;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a request waits for a PostgreSQL connection: during an outage requests fail fast
/// (503) instead of queueing behind a pool that cannot connect.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The writer and reader pools (the same pool on PostgreSQL).
pub(super) struct Pools {
    pub writer: AnyPool,
    pub reader: AnyPool,
    /// The notification channel of this database and schema (PostgreSQL; empty on SQLite).
    pub channel: String,
}

/// Open `url` on `backend` and bring its schema up to date.
pub(super) async fn open(
    backend: Backend,
    url: &str,
    settings: PoolSettings,
) -> Result<Pools, sqlx::Error> {
    sqlx::any::install_default_drivers();
    match backend {
        Backend::Sqlite => sqlite(url).await,
        Backend::Postgres => postgres(url, settings).await,
    }
}

async fn sqlite(url: &str) -> Result<Pools, sqlx::Error> {
    let path = SqliteConnectOptions::from_str(url)?
        .get_filename()
        .to_path_buf();
    file_mode::create_private(&path).map_err(sqlx::Error::Io)?;
    let file = path.display();
    // No ping before handing out a connection: a SQLite connection is a file, not a socket that
    // can go stale, and the ping is a round trip to the connection's thread on every acquire.
    let writer = AnyPoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000",
                )
                .await
                .map(drop)
            })
        })
        .connect(&format!("sqlite://{file}?mode=rwc"))
        .await?;
    SQLITE_MIGRATIONS.run(&writer).await?;
    let reader = AnyPoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000")
                    .await
                    .map(drop)
            })
        })
        .connect(&format!("sqlite://{file}?mode=ro"))
        .await?;
    file_mode::restrict_all(&path);
    Ok(Pools {
        writer,
        reader,
        channel: String::new(),
    })
}

async fn postgres(url: &str, settings: PoolSettings) -> Result<Pools, sqlx::Error> {
    let timeout_ms = settings.statement_timeout.as_millis();
    let pool = AnyPoolOptions::new()
        .max_connections(settings.max_connections)
        // Every connection is opened now, on the runtime that opens the store: a connection is
        // bound to the runtime that connected it, and one opened on an HTTP worker's runtime
        // would fail for the delivery worker once the HTTP server has stopped (at shutdown,
        // while in-flight runs record their outcomes).
        .min_connections(settings.max_connections)
        .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                // A number of our own: safe to splice into the statement.
                let set = format!("SET statement_timeout = {timeout_ms}");
                conn.execute(AssertSqlSafe(set)).await.map(drop)
            })
        })
        .connect(url)
        .await?;
    let schema = current_schema(&pool).await?;
    POSTGRES_MIGRATIONS.run(&pool).await?;
    Ok(Pools {
        writer: pool.clone(),
        reader: pool,
        channel: channel_of(&schema),
    })
}

/// The schema tables are created in. None exists when `search_path` names only schemas that
/// do not exist; the migrations would then fail with "no schema has been selected to create
/// in", so say which schema is missing and how to make it instead.
async fn current_schema(pool: &AnyPool) -> Result<String, sqlx::Error> {
    let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(pool)
        .await?;
    if let Some(schema) = schema {
        return Ok(schema);
    }
    let search_path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(pool)
        .await?;
    let wanted = search_path
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .find(|s| !s.is_empty() && *s != "$user")
        .unwrap_or("bridge")
        .to_string();
    Err(sqlx::Error::Configuration(
        format!(
            "no schema of the search path ({search_path}) exists in this database; create it \
             once (psql: CREATE SCHEMA \"{wanted}\";) or correct options[search_path] in \
             database.url"
        )
        .into(),
    ))
}

/// The notification channel of the bridges on `schema`: bridges on other schemas of the same
/// database do not wake each other. At most 63 bytes (PostgreSQL's limit for a name).
fn channel_of(schema: &str) -> String {
    let mut channel = match schema {
        "public" => "signup_bridge".to_string(),
        other => format!("signup_bridge.{other}"),
    };
    while channel.len() > 63 {
        channel.pop();
    }
    channel
}

#[cfg(test)]
mod tests {
    use super::channel_of;

    #[test]
    fn each_schema_has_its_own_channel_within_the_name_limit() {
        assert_eq!(channel_of("public"), "signup_bridge");
        assert_eq!(channel_of("bridge"), "signup_bridge.bridge");
        let long = "é".repeat(40);
        let channel = channel_of(&long);
        assert!(channel.len() <= 63 && channel.starts_with("signup_bridge.é"));
    }
}
