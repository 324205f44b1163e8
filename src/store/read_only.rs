//! A store opened for reading only (`doctor`): no file is created, no migration runs, and the
//! database refuses every write — SQLite opens the file with `mode=ro`, PostgreSQL sessions
//! are `default_transaction_read_only`. A tool that only looks must not be able to change what
//! it looks at, whatever a function it reuses would do.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Executor;
use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;

use super::backend::Backend;
use super::{SecretBox, Store, group_commit, sealed};

impl Store {
    /// Open `url` read-only; `None` when it is a SQLite file that does not exist (nothing was
    /// ever stored there). Every sealed secret must open with `key`, as for [`Store::open_with`].
    pub async fn open_read_only(
        url: &str,
        key: Option<SecretBox>,
    ) -> Result<Option<Self>, sqlx::Error> {
        let backend = Backend::of_url(url).ok_or_else(|| {
            sqlx::Error::Configuration("database.url must be a sqlite: or postgres: URL".into())
        })?;
        sqlx::any::install_default_drivers();
        let pool = match backend {
            Backend::Sqlite => {
                let path = SqliteConnectOptions::from_str(url)?
                    .get_filename()
                    .to_path_buf();
                if !path.exists() {
                    return Ok(None);
                }
                AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA busy_timeout = 10000").await.map(drop)
                        })
                    })
                    .connect(&format!("sqlite://{}?mode=ro", path.display()))
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(5))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("SET default_transaction_read_only = on")
                                .await
                                .map(drop)
                        })
                    })
                    .connect(url)
                    .await?
            }
        };
        let store = Self {
            // The writer is the same read-only pool: a write through it fails in the database.
            commits: group_commit::GroupCommit::start(pool.clone(), backend, None),
            backend,
            url: url.into(),
            channel: Arc::from(""),
            writer: pool.clone(),
            reader: pool,
            key: key.map(Arc::new),
        };
        store.check_sealed_secrets().await?;
        Ok(Some(store))
    }

    /// The local secret stored under `name`, if any; never creates one (unlike
    /// [`Store::local_secret`]).
    pub async fn stored_local_secret(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM local_secrets WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.reader)
                .await?;
        let context = sealed::local_secret_context(name);
        stored
            .map(|s| sealed::reveal(self.key(), &context, &s))
            .transpose()
            .map_err(|e| sqlx::Error::Decode(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_sqlite_file_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.db");
        let url = format!("sqlite://{}", path.display());
        assert!(Store::open_read_only(&url, None).await.unwrap().is_none());
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn reads_work_and_writes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = Store::open(&url).await.unwrap();
        store.local_secret("kept", || "value".into()).await.unwrap();
        store.close().await;

        let store = Store::open_read_only(&url, None).await.unwrap().unwrap();
        assert_eq!(
            store.stored_local_secret("kept").await.unwrap().as_deref(),
            Some("value")
        );
        assert_eq!(store.stored_local_secret("other").await.unwrap(), None);
        assert!(store.local_secret("new", || "x".into()).await.is_err());
        store.close().await;
    }
}
