//! Re-queueing failed signups by filter: `signups retry --failed` (no filter) and the console's
//! bulk retry (tenant, source, failed since) are this one function; the console counts first.

use super::Store;
use crate::domain::now_ms;

/// Which failed signups a bulk retry takes; every field unset takes them all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailedFilter {
    pub tenant: Option<String>,
    pub source: Option<String>,
    /// Failed at or after this (Unix ms).
    pub since: Option<i64>,
}

/// The shared WHERE clause: `$1` tenant, `$2` source, `$3` since. Erased signups never return.
const MATCHING: &str = "status = 'failed' AND email <> 'erased' AND ($1 IS NULL OR tenant = $1)
    AND ($2 IS NULL OR source_id = $2) AND ($3 IS NULL OR completed_at >= $3)";

impl Store {
    /// How many failed signups `filter` matches (what a bulk retry would re-queue now).
    pub async fn count_failed(&self, filter: &FailedFilter) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM signups WHERE {MATCHING}"
        )))
        .bind(filter.tenant.as_deref())
        .bind(filter.source.as_deref())
        .bind(filter.since)
        .fetch_one(&self.reader)
        .await
    }

    /// Re-queue the failed signups `filter` matches, each with `extra_runs` more delivery runs,
    /// in one transaction; returns their ids.
    pub async fn retry_failed_matching(
        &self,
        filter: &FailedFilter,
        extra_runs: u32,
    ) -> Result<Vec<String>, sqlx::Error> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE signup_steps SET state = 'pending', updated_at = $4
             WHERE state = 'failed' AND signup_id IN (SELECT id FROM signups WHERE {MATCHING})"
        )))
        .bind(filter.tenant.as_deref())
        .bind(filter.source.as_deref())
        .bind(filter.since)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "UPDATE signups SET status = 'pending', attempt_limit = attempts + $4,
                 next_attempt_at = $5, completed_at = NULL, updated_at = $5
             WHERE {MATCHING} RETURNING id"
        )))
        .bind(filter.tenant.as_deref())
        .bind(filter.source.as_deref())
        .bind(filter.since)
        .bind(i64::from(extra_runs))
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ids)
    }
}
