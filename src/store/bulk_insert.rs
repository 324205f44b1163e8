//! New signups of one group-commit batch, written by a few multi-row statements.
//!
//! Every statement is a round trip (to SQLite's thread, or to the PostgreSQL server), and
//! those cost more than the statements themselves (issue 23's profile). So the signups that
//! intake queued while the previous commit was in flight are inserted together: `INSERT …
//! VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING id` for the rows and one more for their
//! steps, in chunks of power-of-two sizes (a batch of 37 takes three statements of each kind,
//! from shapes every connection has prepared already). The batch runs as one write of the
//! batch's transaction (inside its savepoint); when a statement fails, the savepoint is rolled
//! back and each signup is inserted on its own, in a savepoint of its own, so one bad row fails
//! only its own caller. Signups that bind a token's `jti` take the ordinary one-write path
//! (`signups::insert_in`).

use std::collections::HashSet;

use futures_util::future::BoxFuture;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Executor};
use tokio::sync::oneshot;

use super::group_commit::{Op, batch_failed};
use super::notify::Notice;
use super::signups::{NewSignupRecord, insert_in};

/// Most signup rows in one statement (11 parameters each).
const MAX_SIGNUP_ROWS: usize = 128;
/// Most step rows in one statement (4 parameters each): far below both backends' limits.
const MAX_STEP_ROWS: usize = 512;

/// `items` in chunks whose lengths are powers of two, largest first, at most `max` (a power of
/// two): a batch of 37 goes as 32, 4 and 1. Each connection caches its prepared statements by
/// their text, so the statements of every batch come from at most a handful of shapes, prepared
/// once, instead of one large statement per batch size (up to 256, each held in the cache).
fn shaped_chunks<T>(items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = max.min(1 << rest.len().ilog2());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// One new signup waiting for its batch: `Some(true)` inserted, `Some(false)` its key was
/// taken, as `insert_in` answers.
pub(super) struct InsertJob {
    pub record: NewSignupRecord,
    pub now: i64,
    pub reply: oneshot::Sender<Result<Option<bool>, sqlx::Error>>,
}

/// The batch's new signups, run as one write.
pub(super) struct InsertBatch {
    jobs: Vec<InsertJob>,
    /// PostgreSQL's notification channel: the batch announces its new signups there once
    /// (delivered at commit), instead of one notification per signup.
    due_channel: Option<String>,
    outcomes: Vec<Option<Result<Option<bool>, sqlx::Error>>>,
}

impl InsertBatch {
    pub(super) fn new(jobs: Vec<InsertJob>, due_channel: Option<String>) -> Self {
        let outcomes = jobs.iter().map(|_| None).collect();
        Self {
            jobs,
            due_channel,
            outcomes,
        }
    }

    /// Tell every instance (this one included) that work is due, when the batch commits.
    async fn announce(&self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        if let Some(channel) = &self.due_channel {
            sqlx::query("SELECT 1 FROM pg_notify($1, $2)")
                .bind(channel.clone())
                .bind(Notice::Due.payload())
                .execute(conn)
                .await?;
        }
        Ok(())
    }

    /// Every row in one statement, their steps in one more; which records were new.
    async fn all_at_once(&self, conn: &mut AnyConnection) -> Result<Vec<bool>, sqlx::Error> {
        let mut inserted: HashSet<String> = HashSet::with_capacity(self.jobs.len());
        for chunk in shaped_chunks(&self.jobs, MAX_SIGNUP_ROWS) {
            let mut query = sqlx::query(AssertSqlSafe(signups_sql(chunk.len())));
            for job in chunk {
                query = bind_signup(query, &job.record, job.now);
            }
            for row in query.fetch_all(&mut *conn).await? {
                inserted.insert(sqlx::Row::try_get::<String, _>(&row, 0)?);
            }
        }
        let new: Vec<bool> = self
            .jobs
            .iter()
            .map(|j| inserted.contains(&j.record.id))
            .collect();
        let steps: Vec<(&InsertJob, usize, &String)> = self
            .jobs
            .iter()
            .zip(&new)
            .filter(|(_, new)| **new)
            .flat_map(|(job, _)| {
                let named = job.record.steps.iter().enumerate();
                named.map(move |(position, name)| (job, position, name))
            })
            .collect();
        for chunk in shaped_chunks(&steps, MAX_STEP_ROWS) {
            let mut query = sqlx::query(AssertSqlSafe(steps_sql(chunk.len())));
            for (job, position, name) in chunk {
                query = query
                    .bind(job.record.id.clone())
                    .bind(*position as i64)
                    .bind((*name).clone())
                    .bind(job.now);
            }
            query.execute(&mut *conn).await?;
        }
        if !steps.is_empty() {
            self.announce(conn).await?;
        }
        Ok(new)
    }

    /// After the batch statement failed: each record on its own, in a savepoint of its own.
    async fn one_by_one(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        for (job, outcome) in self.jobs.iter().zip(self.outcomes.iter_mut()) {
            conn.execute("SAVEPOINT one").await?;
            let result = insert_in(conn, &job.record, job.now).await;
            let end = match result {
                Ok(_) => "RELEASE one",
                Err(_) => "ROLLBACK TO one; RELEASE one",
            };
            conn.execute(end).await?;
            *outcome = Some(result);
        }
        self.announce(conn).await
    }
}

impl Op for InsertBatch {
    fn run<'c>(&'c mut self, conn: &'c mut AnyConnection) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let ok = match self.all_at_once(conn).await {
                Ok(new) => {
                    for (outcome, new) in self.outcomes.iter_mut().zip(new) {
                        *outcome = Some(Ok(Some(new)));
                    }
                    true
                }
                Err(e) => {
                    tracing::debug!(error = %e, "batch insert failed; inserting one by one");
                    // Undo whatever the batch statement left, keeping the write's savepoint.
                    conn.execute("ROLLBACK TO op").await.is_ok()
                        && self.one_by_one(conn).await.is_ok()
                }
            };
            if !ok {
                // The write's savepoint is rolled back: no row of it stays, whatever each
                // record's own statement answered.
                for outcome in &mut self.outcomes {
                    *outcome = Some(Err(batch_failed("the batch insert was rolled back")));
                }
            }
            ok
        })
    }

    fn answer(self: Box<Self>, batch: Result<(), &sqlx::Error>) {
        for (job, outcome) in self.jobs.into_iter().zip(self.outcomes) {
            let answer = match (batch, outcome) {
                (Ok(()), Some(outcome)) => outcome,
                (Ok(()), None) => Err(batch_failed("the write did not run")),
                (Err(e), _) => Err(batch_failed(e)),
            };
            let _ = job.reply.send(answer);
        }
    }
}

/// Parameters per signup row in [`signups_sql`].
const SIGNUP_PARAMS: usize = 11;

/// `INSERT INTO signups … VALUES` with `rows` rows of [`SIGNUP_PARAMS`] numbered parameters,
/// answering the ids it inserted.
fn signups_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO signups (id, source_id, idempotency_key, fingerprint, tenant, email,
             display_name, status, attempt_limit, next_attempt_at, created_at, updated_at,
             trace_parent) VALUES ",
    );
    for row in 0..rows {
        let p = |i: usize| row * SIGNUP_PARAMS + i;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 'pending', ${}, ${}, ${}, ${}, ${})",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            p(8),
            p(9),
            p(10),
            p(10),
            p(11)
        ));
    }
    sql.push_str(" ON CONFLICT (source_id, idempotency_key) DO NOTHING RETURNING id");
    sql
}

fn bind_signup<'q>(
    query: Query<'q, Any, AnyArguments>,
    record: &NewSignupRecord,
    now: i64,
) -> Query<'q, Any, AnyArguments> {
    query
        .bind(record.id.clone())
        .bind(record.source_id.clone())
        .bind(record.idempotency_key.clone())
        .bind(record.fingerprint.clone())
        .bind(record.tenant.clone())
        .bind(record.email.clone())
        .bind(record.display_name.clone())
        .bind(i64::from(record.attempt_limit))
        .bind(record.not_before.map_or(now, |t| t.max(now)))
        .bind(now)
        .bind(record.trace_parent.clone())
}

/// `INSERT INTO signup_steps … VALUES` with `rows` rows of four numbered parameters.
fn steps_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO signup_steps (signup_id, position, name, state, updated_at) VALUES ",
    );
    for row in 0..rows {
        let p = row * 4;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, 'pending', ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4
        ));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::{shaped_chunks, signups_sql, steps_sql};

    #[test]
    fn batches_go_in_power_of_two_chunks_up_to_the_maximum() {
        let sizes = |n: usize, max| {
            let items: Vec<usize> = (0..n).collect();
            shaped_chunks(&items, max)
                .map(<[usize]>::len)
                .collect::<Vec<_>>()
        };
        assert_eq!(sizes(37, 128), [32, 4, 1]);
        assert_eq!(sizes(1, 128), [1]);
        assert_eq!(sizes(0, 128), Vec::<usize>::new());
        assert_eq!(sizes(300, 128), [128, 128, 32, 8, 4]);
        let items: Vec<usize> = (0..300).collect();
        let joined: Vec<usize> = shaped_chunks(&items, 128).flatten().copied().collect();
        assert_eq!(joined, items, "every item once, in order");
    }

    #[test]
    fn rows_number_their_parameters_in_sequence() {
        let sql = signups_sql(2);
        assert!(sql.contains("($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $10, $11)"));
        assert!(
            sql.contains("($12, $13, $14, $15, $16, $17, $18, 'pending', $19, $20, $21, $21, $22)")
        );
        assert!(sql.ends_with("DO NOTHING RETURNING id"));
        assert_eq!(
            steps_sql(2),
            "INSERT INTO signup_steps (signup_id, position, name, state, updated_at) VALUES \
             ($1, $2, $3, 'pending', $4), ($5, $6, $7, 'pending', $8)"
        );
    }
}
