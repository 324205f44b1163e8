//! The worker's side of the durable queue: claims under a lease, then fenced transitions.
//!
//! A claim bumps `lease_version` and counts a run (`attempts`). Every later write of that run
//! names the lease (owner and version); once a lease expired and another worker claimed the
//! signup, the old run's writes match no row and the run stops (see `fenced.rs`). Claims and
//! transitions go through the group-commit writer: durable when they return, and no network
//! call ever happens inside their transaction.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use sqlx::Row;

use super::Store;
use super::signups::{signup_columns, signup_from_row};
use crate::domain::{Signup, now_ms};

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
        let tenant = tenant.to_string();
        self.commits
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE signups SET next_attempt_at = ?2
                         WHERE tenant = ?1 AND status = 'pending' AND lease_owner IS NULL
                           AND next_attempt_at < ?2",
                    )
                    .bind(&tenant)
                    .bind(until)
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query(
                        "INSERT INTO tenant_holds (tenant, until_ms) VALUES (?1, ?2)
                         ON CONFLICT (tenant) DO UPDATE SET until_ms = MAX(until_ms, excluded.until_ms)",
                    )
                    .bind(&tenant)
                    .bind(until)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
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
        let (owner_id, tenant) = (owner.to_string(), tenant.to_string());
        let rows = self
            .commits
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(sql)
                        .bind(owner_id)
                        .bind(lease_until)
                        .bind(now)
                        .bind(tenant)
                        .bind(limit as i64)
                        .fetch_all(conn)
                        .await
                })
            })
            .await?;
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
}
