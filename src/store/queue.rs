//! The worker's side of the durable queue: claims under a lease, then fenced transitions.
//!
//! A claim bumps `lease_version` and counts a run (`attempts`). Every later write of that run
//! names the lease (owner and version); once a lease expired and another worker claimed the
//! signup, the old run's writes match no row and the run stops (see `fenced.rs`). Claims and
//! transitions go through the group-commit writer: durable when they return, and no network
//! call ever happens inside their transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64};

use sqlx::Row;

use super::Store;
use super::backend::{Backend, Dialect};
use super::signups::{signup_columns, signup_from_row};
use crate::domain::{Signup, now_ms};

/// The class of the PostgreSQL advisory lock that serialises one tenant's claims (the hash of
/// the schema and the tenant is the other half of the key: bridges on other schemas of the
/// database do not wait for each other).
const CLAIM_LOCK_CLASS: i32 = 0x5342_4331;

/// Take that lock until the transaction ends ($1 the class, $2 the tenant).
const CLAIM_LOCK: &str =
    "SELECT 1 FROM pg_advisory_xact_lock($1, hashtext(current_schema() || '/' || $2))";

/// The claim of up to $5 due signups of tenant $4 for owner $1 until $2 (now $3), the
/// subquery's row lock clause appended.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE signups SET lease_owner = $1, lease_until = $2,
                 lease_version = lease_version + 1, attempts = attempts + 1, updated_at = $3
             WHERE id IN (
                 SELECT id FROM signups
                 WHERE status = 'pending' AND tenant = $4 AND next_attempt_at <= $3
                   AND (lease_until IS NULL OR lease_until < $3)
                 ORDER BY next_attempt_at LIMIT $5",
            $lock,
            ") RETURNING ",
            signup_columns!(),
            ", trace_parent"
        )
    };
}

/// How many signups a claim may take: at most `limit`, and at most `concurrency` runs of the
/// tenant held at once by all processes together (`held` leases already are).
fn claim_room(limit: u32, concurrency: u32, held: i64) -> i64 {
    let free = i64::from(concurrency).saturating_sub(held).max(0);
    i64::from(limit).min(free)
}

/// A signup claimed by one worker run.
#[derive(Debug, Clone)]
pub struct ClaimedSignup {
    pub signup: Signup,
    pub lease: Lease,
    /// Until when the lease is held (Unix ms), as last written by this run.
    pub lease_until: Arc<AtomicI64>,
    /// How long this run has waited at the tenant's gate so far (ms): pauses and pacing.
    pub gate_wait_ms: Arc<AtomicU64>,
    /// The intake's W3C `traceparent`, when traces were exported then (see `traces`).
    pub trace_parent: Option<String>,
}

/// Proof of a claim: every transition of the run is fenced by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    pub version: i64,
}

impl Store {
    /// Tenants with at least one due, unleased pending signup. A loose index scan: one index
    /// seek per tenant with pending signups, then one for its first due one, so a worker wake
    /// costs the same with a backlog of ten or of a million (the claim takes what is due).
    pub async fn due_tenants(&self, now: i64) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "WITH RECURSIVE pending_tenants (tenant) AS (
                 SELECT MIN(tenant) FROM signups WHERE status = 'pending'
                 UNION ALL
                 SELECT (SELECT MIN(tenant) FROM signups
                         WHERE status = 'pending' AND tenant > p.tenant)
                 FROM pending_tenants p WHERE p.tenant IS NOT NULL
             )
             SELECT tenant FROM pending_tenants p
             WHERE tenant IS NOT NULL AND EXISTS (
                 SELECT 1 FROM signups s
                 WHERE s.status = 'pending' AND s.tenant = p.tenant
                   AND s.next_attempt_at <= $1
                   AND (s.lease_until IS NULL OR s.lease_until < $1))",
        )
        .bind(now)
        .fetch_all(&self.reader)
        .await
    }

    /// How many of a tenant's pending signups are due now (the backlog ahead of a new one).
    pub async fn due_count(&self, tenant: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM signups
             WHERE status = 'pending' AND tenant = $1 AND next_attempt_at <= $2",
        )
        .bind(tenant)
        .bind(now_ms())
        .fetch_one(&self.reader)
        .await
    }

    /// JSM throttled the tenant until `until`: every process on the database reads the pause
    /// before its next call, and no unleased pending signup of the tenant is due before it. The
    /// pause is committed first, on its own, so other instances see it as soon as possible.
    pub async fn hold_tenant(&self, tenant: &str, until: i64) -> Result<(), sqlx::Error> {
        // The later of the two ends, in SQL both backends take (no MAX/GREATEST of two).
        let sql = "INSERT INTO tenant_holds (tenant, until_ms) VALUES ($1, $2)
             ON CONFLICT (tenant) DO UPDATE SET until_ms = CASE
                 WHEN excluded.until_ms > tenant_holds.until_ms THEN excluded.until_ms
                 ELSE tenant_holds.until_ms END";
        let owned = tenant.to_string();
        self.commits
            .write(move |conn| {
                Box::pin(async move {
                    let query = sqlx::query(sql).bind(owned).bind(until);
                    query.execute(conn).await.map(drop)
                })
            })
            .await?;
        let tenant = tenant.to_string();
        self.commits
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE signups SET next_attempt_at = $2
                         WHERE tenant = $1 AND status = 'pending' AND lease_owner IS NULL
                           AND next_attempt_at < $2",
                    )
                    .bind(tenant)
                    .bind(until)
                    .execute(conn)
                    .await
                    .map(drop)
                })
            })
            .await
    }

    /// When the tenant's recorded 429 pause ends (Unix ms), if one was ever recorded.
    pub async fn tenant_hold(&self, tenant: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT until_ms FROM tenant_holds WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(&self.reader)
            .await
    }

    /// Book the tenant's next call slot under pacing of one call per `interval_ms`, shared by
    /// every process on the database: the slot's time (Unix ms, `now` or later) and the end of
    /// the tenant's recorded 429 pause, if any.
    pub async fn reserve_call_slot(
        &self,
        tenant: &str,
        now: i64,
        interval_ms: i64,
    ) -> Result<(i64, Option<i64>), sqlx::Error> {
        let sql = "INSERT INTO tenant_pacing (tenant, next_slot_ms) VALUES ($1, $2 + $3)
             ON CONFLICT (tenant) DO UPDATE SET next_slot_ms = CASE
                 WHEN tenant_pacing.next_slot_ms > $2 THEN tenant_pacing.next_slot_ms
                 ELSE $2 END + $3
             RETURNING next_slot_ms - $3,
                 (SELECT until_ms FROM tenant_holds WHERE tenant = $1)";
        let tenant = tenant.to_string();
        // One statement on its own, not through the group commit: a slot is booked right
        // before a call, and a batch would make the call wait for the writes queued ahead.
        sqlx::query_as(sql)
            .bind(tenant)
            .bind(now)
            .bind(interval_ms)
            .fetch_one(&self.writer)
            .await
    }

    /// Tenants whose recorded 429 pause ends after `now`, with its end (Unix ms).
    pub async fn tenant_holds(&self, now: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT tenant, until_ms FROM tenant_holds WHERE until_ms > $1")
            .bind(now)
            .fetch_all(&self.reader)
            .await
    }

    /// The earliest future `next_attempt_at` of a pending signup, to sleep until it.
    pub async fn next_due_after(&self, now: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM signups
             WHERE status = 'pending' AND next_attempt_at > $1",
        )
        .bind(now)
        .fetch_one(&self.reader)
        .await
    }

    /// Claim up to `limit` due signups of one tenant for `owner` until `lease_until`, and no
    /// more than `concurrency` less the tenant's leases still held by any process. Claims of one
    /// tenant are serialised across processes (SQLite's single writer; on PostgreSQL a lock for
    /// the transaction), and rows another process is claiming are skipped, not waited for.
    pub async fn claim_due(
        &self,
        owner: &str,
        tenant: &str,
        limit: u32,
        concurrency: u32,
        lease_until: i64,
    ) -> Result<Vec<ClaimedSignup>, sqlx::Error> {
        let now = now_ms();
        // PostgreSQL skips rows another instance is claiming instead of waiting for them.
        let sql = self
            .backend
            .pick(claim_sql!(""), claim_sql!(" FOR UPDATE SKIP LOCKED"));
        let backend = self.backend;
        let (owner_id, tenant) = (owner.to_string(), tenant.to_string());
        let rows = self
            .commits
            .write(move |conn| {
                Box::pin(async move {
                    if backend == Backend::Postgres {
                        sqlx::query(CLAIM_LOCK)
                            .bind(CLAIM_LOCK_CLASS)
                            .bind(&tenant)
                            .execute(&mut *conn)
                            .await?;
                    }
                    let held: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM signups
                         WHERE tenant = $1 AND status = 'pending' AND lease_until >= $2",
                    )
                    .bind(&tenant)
                    .bind(now)
                    .fetch_one(&mut *conn)
                    .await?;
                    let room = claim_room(limit, concurrency, held);
                    if room == 0 {
                        return Ok(Vec::new());
                    }
                    sqlx::query(sql)
                        .bind(owner_id)
                        .bind(lease_until)
                        .bind(now)
                        .bind(tenant)
                        .bind(room)
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
                gate_wait_ms: Arc::new(AtomicU64::new(0)),
                trace_parent: row.try_get("trace_parent")?,
            });
        }
        Ok(claimed)
    }
}

#[cfg(test)]
mod tests {
    use super::claim_room;

    #[test]
    fn a_claim_takes_no_more_than_the_tenant_has_room_for() {
        assert_eq!(claim_room(8, 8, 0), 8);
        assert_eq!(claim_room(8, 8, 3), 5);
        assert_eq!(claim_room(2, 8, 3), 2);
        assert_eq!(claim_room(8, 4, 4), 0);
        assert_eq!(claim_room(8, 4, 9), 0);
    }
}
