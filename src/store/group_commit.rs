//! Group commit (one writer task, one transaction per batch).
//!
//! Intake inserts and worker transitions are queued to one task that owns the writer
//! connection. It takes the first queued write, then everything else that is queued by the time
//! it holds the connection (at most [`MAX_BATCH`]), and runs them in one `BEGIN IMMEDIATE …
//! COMMIT`. There is no timer: at low load a batch is the one write that arrived, under load it
//! is whatever queued up while the previous commit was in flight.
//!
//! Each write runs inside its own `SAVEPOINT`, so a write that fails (a constraint, a lost
//! lease reported as an error) rolls back only itself and its caller alone gets the error.
//! Every caller is answered only after the `COMMIT` returned, i.e. once its rows are durable
//! (`synchronous = FULL`). When the `COMMIT` (or anything outside a savepoint) fails, the whole
//! batch is rolled back and every caller gets an error: never a success without its row.
//!
//! The shape does not depend on SQLite: on PostgreSQL each instance runs the same task, one
//! transaction per batch with the same savepoints (a statement that fails there aborts only its
//! savepoint, which is rolled back before the next write).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;
use sqlx::AnyPool;
use sqlx::{AnyConnection, Executor};
use tokio::sync::{mpsc, oneshot};

use super::backend::{Backend, Dialect, lost_to_another_transaction};
use super::bulk_insert::{InsertBatch, InsertJob};
use super::signups::NewSignupRecord;

/// Most writes in one transaction: bounds the time a batch holds the write lock.
pub const MAX_BATCH: usize = 256;
/// Writes queued beyond this wait for room (back-pressure on intake).
const QUEUE_CAPACITY: usize = 4096;

/// The statements of one write, run on the batch's connection inside its savepoint. `Clone`,
/// so a write PostgreSQL chose as a deadlock victim can run again in a later batch.
pub(super) trait Work<T>:
    for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
    + Clone
    + Send
    + 'static
{
}

impl<T, F> Work<T> for F where
    F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
        + Clone
        + Send
        + 'static
{
}

/// Times a write is tried when PostgreSQL aborts it as a deadlock victim or a serialization
/// failure (instances whose batches lock the same rows in another order): the other
/// transaction commits meanwhile, and the write runs again in a batch of its own.
const ATTEMPTS: u32 = 3;

/// A queued write, type-erased so one queue carries every kind.
pub(super) trait Op: Send {
    /// Run the write's statements; `false` when it failed (its savepoint is rolled back).
    fn run<'c>(&'c mut self, conn: &'c mut AnyConnection) -> BoxFuture<'c, bool>;
    /// Answer the caller: its own outcome when the batch committed, else the batch's error.
    fn answer(self: Box<Self>, batch: Result<(), &sqlx::Error>);
}

struct Job<T, F> {
    work: Option<F>,
    outcome: Option<Result<T, sqlx::Error>>,
    reply: oneshot::Sender<Result<T, sqlx::Error>>,
}

impl<T: Send + 'static, F: Work<T>> Op for Job<T, F> {
    fn run<'c>(&'c mut self, conn: &'c mut AnyConnection) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let Some(work) = self.work.take() else {
                return false;
            };
            let outcome = work(conn).await;
            let ok = outcome.is_ok();
            self.outcome = Some(outcome);
            ok
        })
    }

    fn answer(self: Box<Self>, batch: Result<(), &sqlx::Error>) {
        let answer = match (batch, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(batch_failed("the write did not run")),
            (Err(e), _) => Err(batch_failed(e)),
        };
        // The caller may have gone (request cancelled): its write stands all the same.
        let _ = self.reply.send(answer);
    }
}

/// The error every caller of a failed batch gets (`sqlx::Error` is not `Clone`).
pub(super) fn batch_failed(cause: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!(
        "the write was not committed: {cause}"
    )))
}

/// What the writer's queue carries: a write of its own, or a new signup that joins the batch's
/// one multi-row insert (see `bulk_insert`).
enum Queued {
    Write(Box<dyn Op>),
    Insert(Box<InsertJob>),
}

impl Queued {
    fn answer(self, batch: Result<(), &sqlx::Error>) {
        match self {
            Self::Write(op) => op.answer(batch),
            Self::Insert(job) => {
                let _ = job.reply.send(Err(batch_failed(
                    batch
                        .err()
                        .map_or_else(|| "the write did not run".to_string(), ToString::to_string),
                )));
            }
        }
    }
}

/// The sending side of the writer task; cheap to clone.
#[derive(Clone)]
pub(super) struct GroupCommit {
    queue: mpsc::Sender<Queued>,
    batches: Arc<AtomicU64>,
    /// Taken by the writer before each batch: a test holds it to let writes queue up.
    #[cfg_attr(not(test), allow(dead_code))]
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl GroupCommit {
    /// Start the writer task over the one-connection writer pool. `due_channel` (PostgreSQL)
    /// is where a batch that inserted new signups announces them, once, at its commit.
    pub(super) fn start(pool: AnyPool, backend: Backend, due_channel: Option<String>) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let batches = Arc::new(AtomicU64::new(0));
        let turn = Arc::new(tokio::sync::Mutex::new(()));
        let task = writer(
            pool,
            backend,
            due_channel,
            receiver,
            batches.clone(),
            turn.clone(),
        );
        tokio::spawn(task);
        Self {
            queue,
            batches,
            turn,
        }
    }

    /// Queue one write and wait until its batch committed (or failed). A deadlock victim is
    /// queued again (see [`ATTEMPTS`]).
    pub(super) async fn write<T: Send + 'static>(
        &self,
        work: impl Work<T>,
    ) -> Result<T, sqlx::Error> {
        let mut attempt = 1;
        loop {
            match self.write_once(work.clone()).await {
                Err(e) if attempt < ATTEMPTS && lost_to_another_transaction(&e) => {
                    tracing::debug!(error = %e, attempt, "write aborted by the database; again");
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    async fn write_once<T: Send + 'static>(&self, work: impl Work<T>) -> Result<T, sqlx::Error> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            work: Some(work),
            outcome: None,
            reply,
        };
        self.queue
            .send(Queued::Write(Box::new(job)))
            .await
            .map_err(|_| batch_failed("the writer has stopped"))?;
        answer
            .await
            .map_err(|_| batch_failed("the writer has stopped"))?
    }

    /// Queue a new signup (one without a `jti` to bind) for the next batch's multi-row insert
    /// and wait until that batch committed: `Some(true)` inserted, `Some(false)` its key was
    /// taken. A deadlock victim is queued again, as [`Self::write`] does.
    pub(super) async fn insert(
        &self,
        record: NewSignupRecord,
        now: i64,
    ) -> Result<Option<bool>, sqlx::Error> {
        let mut attempt = 1;
        loop {
            let (reply, answer) = oneshot::channel();
            let job = InsertJob {
                record: record.clone(),
                now,
                reply,
            };
            self.queue
                .send(Queued::Insert(Box::new(job)))
                .await
                .map_err(|_| batch_failed("the writer has stopped"))?;
            let outcome = answer
                .await
                .map_err(|_| batch_failed("the writer has stopped"))?;
            match outcome {
                Err(e) if attempt < ATTEMPTS && lost_to_another_transaction(&e) => {
                    tracing::debug!(error = %e, attempt, "insert aborted by the database; again");
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// Transactions committed so far (or attempted and rolled back): one per batch.
    pub(super) fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// Writes waiting in the queue (not yet taken into a batch).
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Keep the writer from starting its next batch while the guard lives.
    #[cfg(test)]
    pub(super) async fn hold(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }
}

/// The writer task: one batch at a time until every sender is gone.
async fn writer(
    pool: AnyPool,
    backend: Backend,
    due_channel: Option<String>,
    mut receiver: mpsc::Receiver<Queued>,
    batches: Arc<AtomicU64>,
    turn: Arc<tokio::sync::Mutex<()>>,
) {
    while let Some(first) = receiver.recv().await {
        let _turn = turn.lock().await;
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                first.answer(Err(&e));
                continue;
            }
        };
        // Everything that queued while the previous commit (or the connection) was busy.
        let mut queued = vec![first];
        while queued.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(op) => queued.push(op),
                Err(_) => break,
            }
        }
        let mut batch: Vec<Box<dyn Op>> = Vec::with_capacity(queued.len());
        let mut inserts = Vec::new();
        for item in queued {
            match item {
                Queued::Write(op) => batch.push(op),
                Queued::Insert(job) => inserts.push(*job),
            }
        }
        if !inserts.is_empty() {
            batch.push(Box::new(InsertBatch::new(inserts, due_channel.clone())));
        }
        batches.fetch_add(1, Ordering::Relaxed);
        let result = run_batch(&mut conn, backend, &mut batch).await;
        if result.is_err() && conn.execute("ROLLBACK").await.is_err() {
            // A connection that cannot even roll back is not handed out again.
            conn.close_on_drop();
        }
        drop(conn);
        for op in batch {
            op.answer(result.as_ref().map(|_| ()));
        }
    }
}

/// One transaction: each op in its own savepoint, then COMMIT. The savepoint statements around
/// an op go to SQLite in one call with the next op's (or the COMMIT): every call is a round
/// trip (to SQLite's thread, or to the PostgreSQL server), and those cost more than the statements.
async fn run_batch(
    conn: &mut AnyConnection,
    backend: Backend,
    batch: &mut [Box<dyn Op>],
) -> Result<(), sqlx::Error> {
    let mut next = backend.pick("BEGIN IMMEDIATE; SAVEPOINT op", "BEGIN; SAVEPOINT op");
    let mut last_ok = true;
    for op in batch.iter_mut() {
        conn.execute(next).await?;
        last_ok = op.run(conn).await;
        next = match last_ok {
            true => "RELEASE op; SAVEPOINT op",
            false => "ROLLBACK TO op; RELEASE op; SAVEPOINT op",
        };
    }
    let commit = match last_ok {
        true => "RELEASE op; COMMIT",
        false => "ROLLBACK TO op; RELEASE op; COMMIT",
    };
    conn.execute(commit).await?;
    Ok(())
}
