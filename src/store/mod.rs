//! Storage: SQLite (one writer connection, `synchronous = FULL`, `BEGIN IMMEDIATE`, and a
//! read-only pool) or PostgreSQL (one pool shared by any number of instances), behind one API
//! (docs/DECISIONS.md, storage). All SQL lives below this module; see [`backend`] for how the
//! two dialects are kept to one copy of every query.

mod admin;
mod admin_filter;
mod attempts;
mod audit;
mod backend;
mod bulk_insert;
mod bulk_retry;
mod console_queries;
mod console_sessions;
#[cfg(test)]
mod console_tests;
mod email_match;
mod erase;
#[cfg(test)]
mod erase_tests;
mod fenced;
mod file_mode;
mod forge_installations;
#[cfg(test)]
mod forge_installations_tests;
mod group_commit;
#[cfg(test)]
mod group_commit_tests;
mod import;
mod installations;
mod local_secrets;
mod notify;
mod open;
mod queue;
#[cfg(test)]
mod queue_tests;
mod read_only;
mod reseal;
pub mod sealed;
#[cfg(test)]
mod sealed_tests;
mod signups;
#[cfg(test)]
mod test_db;
mod token_jtis;
mod used_tokens;
mod waiting;

use std::sync::Arc;

use sqlx::AnyPool;

use backend::Dialect as _;

pub use admin::RetryOutcome;
pub use admin_filter::{SignupFilter, SignupLine};
pub use attempts::AttemptRecord;
pub use audit::{AuditAction, AuditEntry};
pub use backend::{Backend, PoolSettings, lost_to_another_transaction};
pub use bulk_retry::FailedFilter;
pub use console_queries::{ConsoleFilter, SignupRow, TenantActivity};
pub use console_sessions::ConsoleSession;
pub use erase::{EraseTarget, ErasedSignup};
pub use fenced::TransitionError;
pub use forge_installations::{ForgeCall, ForgeInstallation, ForgeInstallationSummary, ForgeState};
pub use import::ImportCounts;
pub use installations::{Installation, InstallationState, InstallationSummary, NewInstallation};
pub use notify::{Notice, Notices};
pub use queue::{ClaimedSignup, Lease};
pub use sealed::{SealError, SecretBox};
pub use signups::{InsertOutcome, NewSignupRecord};
pub use token_jtis::JtiUse;
pub use used_tokens::TokenUse;

/// The database handle: cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// The URL it was opened with (a PostgreSQL listener opens its own connection).
    url: Arc<str>,
    /// The notification channel every instance on this database and schema shares.
    channel: Arc<str>,
    writer: AnyPool,
    reader: AnyPool,
    /// The writer task: intake inserts and worker transitions, one transaction per batch.
    commits: group_commit::GroupCommit,
    /// `database.encryption_key`: stored secrets are sealed with it (see [`sealed`]).
    key: Option<Arc<SecretBox>>,
}

impl Store {
    /// Open without an encryption key (creating a SQLite file if missing) and apply pending
    /// migrations. A database holding encrypted secrets then fails to open.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        Self::open_with_key(url, None).await
    }

    /// Open with the at-rest key (or none) and the default pool settings.
    pub async fn open_with_key(url: &str, key: Option<SecretBox>) -> Result<Self, sqlx::Error> {
        Self::open_with(url, key, PoolSettings::default()).await
    }

    /// Open `url` (`sqlite:` or `postgres:`) with the at-rest key and pool settings. A SQLite
    /// file, WAL and SHM are owner-only (0600); every stored secret must open with `key`, else
    /// this fails naming it.
    pub async fn open_with(
        url: &str,
        key: Option<SecretBox>,
        settings: PoolSettings,
    ) -> Result<Self, sqlx::Error> {
        let backend = Backend::of_url(url).ok_or_else(|| {
            sqlx::Error::Configuration("database.url must be a sqlite: or postgres: URL".into())
        })?;
        let pools = open::open(backend, url, settings).await?;
        let store = Self {
            commits: group_commit::GroupCommit::start(
                pools.writer.clone(),
                backend,
                (backend == Backend::Postgres).then(|| pools.channel.clone()),
            ),
            backend,
            url: url.into(),
            channel: pools.channel.into(),
            writer: pools.writer,
            reader: pools.reader,
            key: key.map(Arc::new),
        };
        store.check_sealed_secrets().await?;
        Ok(store)
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
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

    /// One statement in a write transaction of its own (see [`Self::begin_write`]): the rows
    /// it changed.
    async fn write_alone(
        &self,
        statement: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<u64, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let changed = statement.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(changed)
    }

    /// A write that needs none of the group-commit queue (operator actions, purges, the
    /// Connect lifecycle): its own transaction on the same writer connection.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'_, sqlx::Any>, sqlx::Error> {
        match self.writer.begin_with(self.backend.begin()).await {
            Err(sqlx::Error::InvalidSavePointStatement) => {
                // SQLite rolls a transaction back by itself on some failures (disk full, I/O
                // error); the driver's own ROLLBACK then fails and it keeps counting a
                // transaction open, so every later BEGIN on that connection fails. Replace it.
                tracing::warn!("replacing the database writer connection after a failed write");
                self.writer.acquire().await?.close().await?;
                self.writer.begin_with(self.backend.begin()).await
            }
            other => other,
        }
    }
}
