//! The worker's side of the durable queue: claims under a lease, then fenced transitions.
//!
//! A claim bumps `lease_version` and counts a run (`attempts`). Every later write of that run
//! names the lease (owner and version); once a lease expired and another worker claimed the
//! signup, the old run's writes match no row and the run stops. Each call commits on its own,
//! and no network call ever happens inside one of these transactions.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use sqlx::Row;

use super::Store;
use super::signups::{signup_columns, signup_from_row};
use crate::domain::{LastError, Signup, SignupStatus, StepState, now_ms};

/// A signup claimed by one worker run.
#[derive(Debug, Clone)]
pub struct ClaimedSignup {
    pub signup: Signup,
    pub lease: Lease,
    /// Until when the lease is held (Unix ms), as last written by this run.
    pub lease_until: Arc<AtomicI64>,
}

/// Proof of a claim: every transition of the run is fenced by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    pub version: i64,
}

/// The fenced transition found the lease gone (expired and taken over, or released).
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("the lease on this signup is no longer held")]
    LeaseLost,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The WHERE clause of every fenced write: ?1 id, ?2 lease owner, ?3 lease version.
macro_rules! lease_match {
    () => {
        " WHERE id = ?1 AND lease_owner = ?2 AND lease_version = ?3"
    };
}

type FencedQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

impl Store {
    /// Tenants with due, unleased pending signups, and how many each has.
    pub async fn due_tenants(&self, now: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT tenant, COUNT(*) AS n FROM signups
             WHERE status = 'pending' AND next_attempt_at <= ?1
               AND (lease_until IS NULL OR lease_until < ?1)
             GROUP BY tenant",
        )
        .bind(now)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("tenant")?, r.try_get("n")?)))
            .collect()
    }

    /// How many of a tenant's pending signups are due now (the backlog ahead of a new one).
    pub async fn due_count(&self, tenant: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM signups
             WHERE status = 'pending' AND tenant = ?1 AND next_attempt_at <= ?2",
        )
        .bind(tenant)
        .bind(now_ms())
        .fetch_one(&self.reader)
        .await
    }

    /// JSM throttled the tenant until `until`: no unleased pending signup of it is due before.
    pub async fn hold_tenant(&self, tenant: &str, until: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE signups SET next_attempt_at = ?2
             WHERE tenant = ?1 AND status = 'pending' AND lease_owner IS NULL
               AND next_attempt_at < ?2",
        )
        .bind(tenant)
        .bind(until)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO tenant_holds (tenant, until_ms) VALUES (?1, ?2)
             ON CONFLICT (tenant) DO UPDATE SET until_ms = MAX(until_ms, excluded.until_ms)",
        )
        .bind(tenant)
        .bind(until)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Tenants whose recorded 429 pause ends after `now`, with its end (Unix ms).
    pub async fn tenant_holds(&self, now: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT tenant, until_ms FROM tenant_holds WHERE until_ms > ?1")
            .bind(now)
            .fetch_all(&self.reader)
            .await
    }

    /// The earliest future `next_attempt_at` of a pending signup, to sleep until it.
    pub async fn next_due_after(&self, now: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM signups
             WHERE status = 'pending' AND next_attempt_at > ?1",
        )
        .bind(now)
        .fetch_one(&self.reader)
        .await
    }

    /// Claim up to `limit` due signups of one tenant for `owner` until `lease_until`.
    pub async fn claim_due(
        &self,
        owner: &str,
        tenant: &str,
        limit: u32,
        lease_until: i64,
    ) -> Result<Vec<ClaimedSignup>, sqlx::Error> {
        let now = now_ms();
        let sql = concat!(
            "UPDATE signups SET lease_owner = ?1, lease_until = ?2,
                 lease_version = lease_version + 1, attempts = attempts + 1, updated_at = ?3
             WHERE id IN (
                 SELECT id FROM signups
                 WHERE status = 'pending' AND tenant = ?4 AND next_attempt_at <= ?3
                   AND (lease_until IS NULL OR lease_until < ?3)
                 ORDER BY next_attempt_at LIMIT ?5)
             RETURNING ",
            signup_columns!()
        );
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(tenant)
            .bind(limit as i64)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut signup = signup_from_row(row)?;
            signup.steps = self.steps_of(&signup.id).await?;
            let version = signup.lease_version;
            claimed.push(ClaimedSignup {
                signup,
                lease: Lease {
                    owner: owner.to_string(),
                    version,
                },
                lease_until: Arc::new(AtomicI64::new(lease_until)),
            });
        }
        Ok(claimed)
    }

    /// Extend a held lease.
    pub async fn renew_lease(
        &self,
        id: &str,
        lease: &Lease,
        until: i64,
    ) -> Result<(), TransitionError> {
        self.fenced(
            concat!("UPDATE signups SET lease_until = ?4", lease_match!()),
            id,
            lease,
            |q| q.bind(until),
        )
        .await
    }

    /// Record one step's new state in its own commit. For the `create` step, also what it
    /// resolved to (`created` or `existing`) and the customer when JSM showed it.
    pub async fn record_step(
        &self,
        id: &str,
        lease: &Lease,
        position: usize,
        state: StepState,
        resolution: Option<(SignupStatus, Option<&serde_json::Value>)>,
    ) -> Result<(), TransitionError> {
        let sql = concat!(
            "UPDATE signups SET resolution = COALESCE(?4, resolution),
                 customer = COALESCE(?5, customer), updated_at = ?6",
            lease_match!()
        );
        let status = resolution.map(|(status, _)| status.as_str());
        let customer = resolution.and_then(|(_, c)| c).map(|c| c.to_string());
        self.fenced_with_step(sql, id, lease, Some((position, state)), |q| {
            q.bind(status).bind(customer).bind(now_ms())
        })
        .await
    }

    /// Every step is done or skipped: the signup takes the status its create resolved to.
    pub async fn complete(&self, id: &str, lease: &Lease) -> Result<(), TransitionError> {
        let now = now_ms();
        self.fenced(
            concat!(
                "UPDATE signups SET status = COALESCE(resolution, 'created'), last_error = NULL,
                     last_error_detail = NULL, lease_owner = NULL, lease_until = NULL, completed_at = ?4, updated_at = ?4",
                lease_match!()
            ),
            id,
            lease,
            |q| q.bind(now),
        )
        .await
    }

    /// The run failed in a way worth retrying: free the signup until `next_attempt_at`.
    pub async fn retry_later(
        &self,
        id: &str,
        lease: &Lease,
        next_attempt_at: i64,
        error: &LastError,
    ) -> Result<(), TransitionError> {
        self.fenced(
            concat!(
                "UPDATE signups SET lease_owner = NULL, lease_until = NULL, next_attempt_at = ?4,
                     last_error = ?5, last_error_detail = ?6, updated_at = ?7",
                lease_match!()
            ),
            id,
            lease,
            |q| {
                q.bind(next_attempt_at)
                    .bind(error.summary.clone())
                    .bind(error.detail.clone())
                    .bind(now_ms())
            },
        )
        .await
    }

    /// End the signup as `failed`, naming the step that failed.
    pub async fn fail(
        &self,
        id: &str,
        lease: &Lease,
        position: usize,
        error: &LastError,
    ) -> Result<(), TransitionError> {
        let sql = concat!(
            "UPDATE signups SET status = 'failed', last_error = ?4, last_error_detail = ?5,
                 lease_owner = NULL, lease_until = NULL, completed_at = ?6, updated_at = ?6",
            lease_match!()
        );
        let failed = Some((position, StepState::Failed));
        self.fenced_with_step(sql, id, lease, failed, |q| {
            q.bind(error.summary.clone())
                .bind(error.detail.clone())
                .bind(now_ms())
        })
        .await
    }

    /// Give a claimed signup back without an outcome (shutdown): due again at once.
    pub async fn release(&self, id: &str, lease: &Lease) -> Result<(), TransitionError> {
        self.fenced(
            concat!(
                "UPDATE signups SET lease_owner = NULL, lease_until = NULL, next_attempt_at = ?4",
                lease_match!()
            ),
            id,
            lease,
            |q| q.bind(now_ms()),
        )
        .await
    }

    /// Run one UPDATE fenced by the lease (?1 id, ?2 owner, ?3 version, then `bind_rest`).
    async fn fenced(
        &self,
        sql: &'static str,
        id: &str,
        lease: &Lease,
        bind_rest: impl FnOnce(FencedQuery<'_>) -> FencedQuery<'_>,
    ) -> Result<(), TransitionError> {
        self.fenced_with_step(sql, id, lease, None, bind_rest).await
    }

    /// The fenced UPDATE and, in the same commit and only while the lease holds, one step's
    /// new state.
    async fn fenced_with_step(
        &self,
        sql: &'static str,
        id: &str,
        lease: &Lease,
        step: Option<(usize, StepState)>,
        bind_rest: impl FnOnce(FencedQuery<'_>) -> FencedQuery<'_>,
    ) -> Result<(), TransitionError> {
        let mut tx = self.begin_write().await?;
        let query = bind_rest(
            sqlx::query(sql)
                .bind(id)
                .bind(&lease.owner)
                .bind(lease.version),
        );
        if query.execute(&mut *tx).await?.rows_affected() != 1 {
            return Err(TransitionError::LeaseLost);
        }
        if let Some((position, state)) = step {
            sqlx::query(
                "UPDATE signup_steps SET state = ?3, updated_at = ?4
                 WHERE signup_id = ?1 AND position = ?2",
            )
            .bind(id)
            .bind(position as i64)
            .bind(state.as_str())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
