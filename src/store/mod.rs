//! Storage: SQLite with one writer connection (`synchronous = FULL`, `BEGIN IMMEDIATE`) and a
//! separate read-only pool (docs/DECISIONS.md, storage). All SQL lives below this module, so another backend can
//! take its place without touching callers.

mod admin;
mod fenced;
mod file_mode;
mod forge_installations;
#[cfg(test)]
mod forge_installations_tests;
mod group_commit;
#[cfg(test)]
mod group_commit_tests;
mod installations;
mod local_secrets;
mod queue;
pub mod sealed;
mod signups;
mod token_jtis;
mod used_tokens;
mod waiting;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use admin::{RetryOutcome, SignupSummary};
pub use fenced::TransitionError;
pub use forge_installations::{ForgeCall, ForgeInstallation, ForgeInstallationSummary, ForgeState};
pub use installations::{Installation, InstallationState, InstallationSummary, NewInstallation};
pub use queue::{ClaimedSignup, Lease};
pub use sealed::{SealError, SecretBox};
pub use signups::{InsertOutcome, NewSignupRecord};
pub use token_jtis::JtiUse;
pub use used_tokens::TokenUse;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The database handle: cheap to clone.
#[derive(Clone)]
pub struct Store {
    writer: SqlitePool,
    reader: SqlitePool,
    /// The writer task: intake inserts and worker transitions, one transaction per batch.
    commits: group_commit::GroupCommit,
    /// `database.encryption_key`: stored secrets are sealed with it (see [`sealed`]).
    key: Option<Arc<SecretBox>>,
}

impl Store {
    /// Open without an encryption key (creating the file if missing) and apply pending
    /// migrations. A database holding encrypted secrets then fails to open.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        Self::open_with_key(url, None).await
    }

    /// Open with the at-rest key (or none). The database file, WAL and SHM are owner-only
    /// (0600); every stored secret must open with `key`, else this fails naming it.
    pub async fn open_with_key(url: &str, key: Option<SecretBox>) -> Result<Self, sqlx::Error> {
        let base = SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let path = base.get_filename().to_path_buf();
        file_mode::create_private(&path).map_err(sqlx::Error::Io)?;
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
        file_mode::restrict_all(&path);
        let store = Self {
            commits: group_commit::GroupCommit::start(writer.clone()),
            writer,
            reader,
            key: key.map(Arc::new),
        };
        store.check_sealed_secrets().await?;
        Ok(store)
    }

    /// The at-rest key, for modules that store secrets.
    fn key(&self) -> Option<&SecretBox> {
        self.key.as_deref()
    }

    /// True when the database answers a query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.reader).await.is_ok()
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    /// Write transactions committed so far by the group-commit writer (one per batch, however
    /// many writes it carried): a test hook and a gauge of batching.
    pub fn write_batches(&self) -> u64 {
        self.commits.batches()
    }

    /// A write that needs none of the group-commit queue (operator actions, purges, the
    /// Connect lifecycle): its own transaction on the same writer connection.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>, sqlx::Error> {
        match self.writer.begin_with("BEGIN IMMEDIATE").await {
            Err(sqlx::Error::InvalidSavePointStatement) => {
                // SQLite rolls a transaction back by itself on some failures (disk full, I/O
                // error); the driver's own ROLLBACK then fails and it keeps counting a
                // transaction open, so every later BEGIN on that connection fails. Replace it.
                tracing::warn!("replacing the database writer connection after a failed write");
                self.writer.acquire().await?.close().await?;
                self.writer.begin_with("BEGIN IMMEDIATE").await
            }
            other => other,
        }
    }
}
