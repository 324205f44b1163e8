//! Operator actions on signups (`signups list|show|retry`), retention purge and gauges.

use super::Store;
use crate::domain::{SignupStatus, now_ms};

/// What `signups retry ID` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOutcome {
    /// A failed signup is pending again, with `max_attempts` more runs.
    Requeued,
    /// A pending signup is due now.
    MadeDue,
    /// A pending signup is being delivered right now; its run decides what comes next.
    InFlight,
    /// Created or existing: nothing to retry.
    AlreadyDone,
    NotFound,
}

impl Store {
    /// Re-queue one signup; a failed one gets `extra_runs` more delivery runs.
    pub async fn retry_signup(
        &self,
        id: &str,
        extra_runs: u32,
    ) -> Result<RetryOutcome, sqlx::Error> {
        let Some(signup) = self.signup(id).await? else {
            return Ok(RetryOutcome::NotFound);
        };
        // An erased signup has no email left to deliver.
        if signup.is_erased() {
            return Ok(RetryOutcome::AlreadyDone);
        }
        match signup.status {
            SignupStatus::Created | SignupStatus::Existing => Ok(RetryOutcome::AlreadyDone),
            SignupStatus::Pending => {
                let n = self
                    .write_alone(
                        sqlx::query(
                            "UPDATE signups SET next_attempt_at = $2, updated_at = $2
                     WHERE id = $1 AND status = 'pending' AND lease_owner IS NULL",
                        )
                        .bind(id)
                        .bind(now_ms()),
                    )
                    .await?;
                Ok(if n == 1 {
                    RetryOutcome::MadeDue
                } else {
                    RetryOutcome::InFlight
                })
            }
            SignupStatus::Failed => Ok(match self.requeue_failed(Some(id), extra_runs).await? {
                0 => RetryOutcome::NotFound,
                _ => RetryOutcome::Requeued,
            }),
        }
    }

    /// Re-queue every failed signup; returns how many.
    pub async fn retry_all_failed(&self, extra_runs: u32) -> Result<u64, sqlx::Error> {
        let all = super::FailedFilter::default();
        Ok(self.retry_failed_matching(&all, extra_runs).await?.len() as u64)
    }

    async fn requeue_failed(&self, id: Option<&str>, extra_runs: u32) -> Result<u64, sqlx::Error> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE signup_steps SET state = 'pending', updated_at = $2
             WHERE state = 'failed' AND signup_id IN
                 (SELECT id FROM signups WHERE status = 'failed' AND email <> 'erased'
                  AND ($1 IS NULL OR id = $1))",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(
            "UPDATE signups SET status = 'pending', attempt_limit = attempts + $2,
                 next_attempt_at = $3, completed_at = NULL, updated_at = $3
             WHERE status = 'failed' AND email <> 'erased' AND ($1 IS NULL OR id = $1)",
        )
        .bind(id)
        .bind(extra_runs as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Delete up to `batch` finished signups past their retention; returns how many.
    pub async fn purge_expired(
        &self,
        done_before: i64,
        failed_before: i64,
        batch: u32,
    ) -> Result<u64, sqlx::Error> {
        let n = self
            .write_alone(
                sqlx::query(
                    "DELETE FROM signups WHERE id IN (
                 SELECT id FROM signups
                 WHERE (status IN ('created', 'existing') AND completed_at < $1)
                    OR (status = 'failed' AND completed_at < $2)
                 LIMIT $3)",
                )
                .bind(done_before)
                .bind(failed_before)
                .bind(batch as i64),
            )
            .await?;
        Ok(n)
    }

    /// How many signups are pending.
    pub async fn pending_count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM signups WHERE status = 'pending'")
            .fetch_one(&self.reader)
            .await
    }
}
