//! Storage: SQLite with one writer connection (`synchronous = FULL`, `BEGIN IMMEDIATE`) and a
//! separate read-only pool (SPEC §8). All SQL lives below this module, so another backend can
//! take its place without touching callers.

mod admin;
mod installations;
mod local_secrets;
mod queue;
mod signups;
mod token_jtis;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use admin::{RetryOutcome, SignupSummary};
pub use installations::{Installation, InstallationState, InstallationSummary, NewInstallation};
pub use queue::{ClaimedSignup, Lease, TransitionError};
pub use signups::{InsertOutcome, NewSignupRecord};
pub use token_jtis::JtiUse;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The database handle: cheap to clone.
#[derive(Clone)]
pub struct Store {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl Store {
    /// Open (creating the file if missing) and apply pending migrations.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        let base = SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .synchronous(SqliteSynchronous::Full),
            )
            .await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    /// True when the database answers a query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.reader).await.is_ok()
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }
}
