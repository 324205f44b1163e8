//! Fenced transitions of a claimed signup: every write names the lease (owner and version) and
//! matches no row once the lease is gone, so a run that lost its lease stops there.
//!
//! Each transition is one write through the group-commit writer (shared transaction, own
//! savepoint), durable when it returns. `complete` records a run's last step and the
//! outcome together, so a one-step signup costs the worker two commits: the claim and this.

use super::Store;
use super::queue::Lease;
use crate::domain::{LastError, SignupStatus, StepState, now_ms};

/// The fenced transition found the lease gone (expired and taken over, or released).
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("the lease on this signup is no longer held")]
    LeaseLost,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What a `create` step resolved to, set from $4 (status) and $5 (the customer's JSON); either
/// may be NULL, leaving what is stored.
macro_rules! resolution_set {
    () => {
        "resolution = COALESCE($4, resolution), customer = COALESCE($5, customer)"
    };
}

/// The WHERE clause of every fenced write: $1 id, $2 lease owner, $3 lease version.
macro_rules! lease_match {
    () => {
        " WHERE id = $1 AND lease_owner = $2 AND lease_version = $3"
    };
}

type FencedQuery = sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>;

/// What a `create` step resolved to, as bound: the status and the customer's JSON.
fn resolution_binds(
    resolution: Option<(SignupStatus, Option<&serde_json::Value>)>,
) -> (Option<&'static str>, Option<String>) {
    let status = resolution.map(|(status, _)| status.as_str());
    let customer = resolution.and_then(|(_, c)| c).map(|c| c.to_string());
    (status, customer)
}

impl Store {
    /// Extend a held lease.
    pub async fn renew_lease(
        &self,
        id: &str,
        lease: &Lease,
        until: i64,
    ) -> Result<(), TransitionError> {
        self.fenced(
            concat!("UPDATE signups SET lease_until = $4", lease_match!()),
            id,
            lease,
            None,
            move |q| q.bind(until),
        )
        .await
    }

    /// Record one step's new state in its own write. For the `create` step, also what it
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
            "UPDATE signups SET ",
            resolution_set!(),
            ", updated_at = $6",
            lease_match!()
        );
        let (status, customer) = resolution_binds(resolution);
        self.fenced(sql, id, lease, Some((position, state)), move |q| {
            q.bind(status).bind(customer).bind(now_ms())
        })
        .await
    }

    /// Every step is done or skipped: the signup takes the status its create resolved to. The
    /// run's last step (and what it resolved to), when it finished one, is recorded in the same
    /// write, so a one-step signup costs the worker two commits: the claim and this.
    pub async fn complete(
        &self,
        id: &str,
        lease: &Lease,
        last_step: Option<(usize, StepState)>,
        resolution: Option<(SignupStatus, Option<&serde_json::Value>)>,
        note: Option<&LastError>,
    ) -> Result<(), TransitionError> {
        let sql = concat!(
            "UPDATE signups SET ",
            resolution_set!(),
            ", status = COALESCE($4, resolution, 'created'), last_error = $7,
                 last_error_detail = $8, lease_owner = NULL, lease_until = NULL,
                 completed_at = $6, updated_at = $6",
            lease_match!()
        );
        let (status, customer) = resolution_binds(resolution);
        // An `existing` signup without a readable account keeps why (`account_unreadable`).
        let (summary, detail) = (
            note.map(|n| n.summary.clone()),
            note.map(|n| n.detail.clone()),
        );
        self.fenced(sql, id, lease, last_step, move |q| {
            q.bind(status)
                .bind(customer)
                .bind(now_ms())
                .bind(summary)
                .bind(detail)
        })
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
        let (summary, detail) = (error.summary.clone(), error.detail.clone());
        self.fenced(
            concat!(
                "UPDATE signups SET lease_owner = NULL, lease_until = NULL, next_attempt_at = $4,
                     last_error = $5, last_error_detail = $6, updated_at = $7",
                lease_match!()
            ),
            id,
            lease,
            None,
            move |q| {
                q.bind(next_attempt_at)
                    .bind(summary)
                    .bind(detail)
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
            "UPDATE signups SET status = 'failed', last_error = $4, last_error_detail = $5,
                 lease_owner = NULL, lease_until = NULL, completed_at = $6, updated_at = $6",
            lease_match!()
        );
        let (summary, detail) = (error.summary.clone(), error.detail.clone());
        let failed = Some((position, StepState::Failed));
        self.fenced(sql, id, lease, failed, move |q| {
            q.bind(summary).bind(detail).bind(now_ms())
        })
        .await
    }

    /// Give a claimed signup back without an outcome (shutdown): due again at once.
    pub async fn release(&self, id: &str, lease: &Lease) -> Result<(), TransitionError> {
        self.fenced(
            concat!(
                "UPDATE signups SET lease_owner = NULL, lease_until = NULL, next_attempt_at = $4",
                lease_match!()
            ),
            id,
            lease,
            None,
            |q| q.bind(now_ms()),
        )
        .await
    }

    /// The UPDATE fenced by the lease ($1 id, $2 owner, $3 version, then `bind_rest`) and, in
    /// the same write and only while the lease holds, one step's new state.
    async fn fenced(
        &self,
        sql: &'static str,
        id: &str,
        lease: &Lease,
        step: Option<(usize, StepState)>,
        bind_rest: impl FnOnce(FencedQuery) -> FencedQuery + Clone + Send + 'static,
    ) -> Result<(), TransitionError> {
        let (id, lease) = (id.to_string(), lease.clone());
        let held = self
            .commits
            .write(move |conn| {
                Box::pin(async move {
                    let query = bind_rest(
                        sqlx::query(sql)
                            .bind(id.clone())
                            .bind(lease.owner)
                            .bind(lease.version),
                    );
                    if query.execute(&mut *conn).await?.rows_affected() != 1 {
                        return Ok(false);
                    }
                    if let Some((position, state)) = step {
                        sqlx::query(
                            "UPDATE signup_steps SET state = $3, updated_at = $4
                             WHERE signup_id = $1 AND position = $2",
                        )
                        .bind(id)
                        .bind(position as i64)
                        .bind(state.as_str())
                        .bind(now_ms())
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(true)
                })
            })
            .await?;
        if held {
            Ok(())
        } else {
            Err(TransitionError::LeaseLost)
        }
    }
}
