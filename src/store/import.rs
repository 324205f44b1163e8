//! `import`: many signups stored through the group commit, one write (one savepoint) per batch
//! of rows, never a transaction per row; and the counts `import --wait` shows.

use sqlx::Row;

use super::Store;
use super::signups::{NewSignupRecord, insert_in};
use crate::domain::now_ms;

/// The statuses of a source's imported signups (keys starting `import:`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub pending: i64,
    pub created: i64,
    pub existing: i64,
    pub failed: i64,
}

impl Store {
    /// Insert every record whose (source, key) is free, in one write of the group commit;
    /// how many were new. Records whose key is taken are left as they are.
    pub async fn insert_batch(&self, records: Vec<NewSignupRecord>) -> Result<u64, sqlx::Error> {
        let inserted = self
            .commits
            .write(move |conn| {
                Box::pin(async move {
                    let mut new = 0;
                    for record in &records {
                        if insert_in(conn, record, now_ms()).await? == Some(true) {
                            new += 1;
                        }
                    }
                    Ok(new)
                })
            })
            .await?;
        self.announce(&super::Notice::Due).await;
        Ok(inserted)
    }

    /// How the imported signups of `source_id` stand now.
    pub async fn import_counts(&self, source_id: &str) -> Result<ImportCounts, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM signups
             WHERE source_id = $1 AND idempotency_key LIKE 'import:%' GROUP BY status",
        )
        .bind(source_id)
        .fetch_all(&self.reader)
        .await?;
        let mut counts = ImportCounts::default();
        for row in &rows {
            let status: String = row.try_get("status")?;
            let n: i64 = row.try_get("n")?;
            match status.as_str() {
                "pending" => counts.pending = n,
                "created" => counts.created = n,
                "existing" => counts.existing = n,
                _ => counts.failed = n,
            }
        }
        Ok(counts)
    }
}
