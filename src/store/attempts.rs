//! The history of a signup's failed delivery runs, for operators (the console's signup page):
//! each run that ended in a retry or in `failed` leaves its run number, time, `lastError` and
//! masked detail, written in the same fenced write as the outcome. Successful runs leave none
//! (the signup's own times say when it was done); rows go with their signup (ON DELETE CASCADE).

use sqlx::{AnyConnection, Row};

use super::Store;
use crate::domain::{LastError, now_ms};

/// How a run ended, as recorded by the fenced write that ends it.
#[derive(Debug, Clone)]
pub(super) struct RunRecord {
    /// `retry` or `failed`.
    outcome: &'static str,
    error: String,
    detail: String,
}

impl RunRecord {
    pub(super) fn new(outcome: &'static str, error: &LastError) -> Self {
        Self {
            outcome,
            error: error.summary.clone(),
            detail: error.detail.clone(),
        }
    }

    /// Record it under the signup's current run number (once per run).
    pub(super) async fn insert(
        self,
        id: &str,
        conn: &mut AnyConnection,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO signup_attempts (signup_id, run, at, outcome, error, detail)
             SELECT id, attempts, $2, $3, $4, $5 FROM signups WHERE id = $1
             ON CONFLICT (signup_id, run) DO NOTHING",
        )
        .bind(id)
        .bind(now_ms())
        .bind(self.outcome)
        .bind(self.error)
        .bind(self.detail)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// One recorded run of a signup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The run's number (1 for the first delivery run).
    pub run: i64,
    /// When it ended (Unix ms).
    pub at: i64,
    /// `retry` (it will be tried again) or `failed` (it ended the signup).
    pub outcome: String,
    /// `<category>: <short reason>`.
    pub error: String,
    /// The full detail, emails masked.
    pub detail: String,
}

impl Store {
    /// The recorded failed runs of a signup, oldest first (at most `limit`, the latest ones).
    pub async fn signup_attempts(
        &self,
        id: &str,
        limit: u32,
    ) -> Result<Vec<AttemptRecord>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT run, at, outcome, error, detail FROM signup_attempts WHERE signup_id = $1
             ORDER BY run DESC LIMIT $2",
        )
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(AttemptRecord {
                    run: r.try_get("run")?,
                    at: r.try_get("at")?,
                    outcome: r.try_get("outcome")?,
                    error: r.try_get("error")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        out.reverse();
        Ok(out)
    }
}
