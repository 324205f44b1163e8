//! Signups: idempotent insert and reads. Worker transitions live in `queue.rs`, operator
//! actions in `admin.rs`.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Store;
use super::backend::Dialect as _;
use super::token_jtis::{JtiUse, bind_in};
use crate::domain::{Signup, SignupStatus, Step, StepState, now_ms};

/// What intake asks the store to record.
#[derive(Debug, Clone)]
pub struct NewSignupRecord {
    pub id: String,
    pub source_id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub tenant: String,
    pub email: String,
    pub display_name: String,
    /// Step names in order; `create` first.
    pub steps: Vec<String>,
    pub attempt_limit: u32,
    /// Not due before this (Unix ms): the end of a 429 pause the tenant is under.
    pub not_before: Option<i64>,
    /// The token's `jti`, bound to this key in the same transaction.
    pub jti: Option<JtiUse>,
    /// The W3C `traceparent` of the intake span, when traces are exported: every delivery run
    /// of this signup joins that trace.
    pub trace_parent: Option<String>,
}

impl NewSignupRecord {
    /// The signup as this record wrote it at `now`: pending, no run yet, every step pending.
    fn as_written(&self, now: i64) -> Signup {
        Signup {
            id: self.id.clone(),
            source_id: self.source_id.clone(),
            idempotency_key: self.idempotency_key.clone(),
            fingerprint: self.fingerprint.clone(),
            tenant: self.tenant.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            status: SignupStatus::Pending,
            steps: self
                .steps
                .iter()
                .map(|name| Step {
                    name: name.clone(),
                    state: StepState::Pending,
                })
                .collect(),
            customer: None,
            attempts: 0,
            attempt_limit: self.attempt_limit,
            last_error: None,
            last_error_detail: None,
            next_attempt_at: self.not_before.map_or(now, |t| t.max(now)),
            lease_version: 0,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The result of an idempotent insert.
#[derive(Debug)]
pub enum InsertOutcome {
    /// A new signup, committed.
    Inserted(Signup),
    /// The (source, key) pair was already taken by this signup.
    Existing(Signup),
    /// The token's `jti` is bound to another key: nothing was written.
    JtiBoundElsewhere,
}

/// The columns `signup_from_row` reads, for `concat!` into static SQL.
macro_rules! signup_columns {
    () => {
        "id, source_id, idempotency_key, fingerprint, tenant, email, display_name, status, \
         customer, attempts, attempt_limit, last_error, last_error_detail, next_attempt_at, \
         lease_version, \
         created_at, updated_at"
    };
}
pub(super) use signup_columns;

/// A signup with its steps in order as one JSON column (`[[name, state], ...]`), so a read is
/// one query: `(SQLite, PostgreSQL)` statements for `SELECT … FROM signups WHERE <where>`.
macro_rules! select_signup_where {
    ($where:literal) => {
        (
            concat!(
                "SELECT ",
                signup_columns!(),
                ", (SELECT json_group_array(json_array(name, state) ORDER BY position)
                    FROM signup_steps WHERE signup_id = signups.id) AS steps_json
                 FROM signups WHERE ",
                $where
            ),
            concat!(
                "SELECT ",
                signup_columns!(),
                ", (SELECT COALESCE(json_agg(json_build_array(name, state) ORDER BY position),
                        '[]')::text
                    FROM signup_steps WHERE signup_id = signups.id) AS steps_json
                 FROM signups WHERE ",
                $where
            ),
        )
    };
}

/// A signup row read with `select_signup_where!`.
fn with_steps(row: &AnyRow) -> Result<Signup, sqlx::Error> {
    let mut signup = signup_from_row(row)?;
    let steps: String = row.try_get("steps_json")?;
    let steps: Vec<(String, String)> =
        serde_json::from_str(&steps).map_err(|e| sqlx::Error::Decode(e.into()))?;
    signup.steps = steps
        .into_iter()
        .map(|(name, state)| Step {
            name,
            state: StepState::parse(&state).unwrap_or(StepState::Pending),
        })
        .collect();
    Ok(signup)
}

impl Store {
    /// Record a signup under its (source, key), or return the one already there. Committed
    /// (durable: `synchronous = FULL` on SQLite) before it returns, in a batch with whatever other
    /// writes were queued meanwhile (group commit).
    pub async fn insert_signup(&self, new: &NewSignupRecord) -> Result<InsertOutcome, sqlx::Error> {
        let record = new.clone();
        let now = now_ms();
        let written = match record.jti {
            // The common case joins the batch's one multi-row insert (`bulk_insert`).
            None => self.commits.insert(record, now).await?,
            Some(_) => {
                let written = self
                    .commits
                    .write(move |conn| Box::pin(async move { insert_in(conn, &record, now).await }))
                    .await?;
                self.announce(&super::Notice::Due).await;
                written
            }
        };
        match written {
            None => Ok(InsertOutcome::JtiBoundElsewhere),
            // Exactly what was committed: no read-back (one round trip less per new signup).
            Some(true) => Ok(InsertOutcome::Inserted(new.as_written(now))),
            Some(false) => match self
                .find_by_key(&new.source_id, &new.idempotency_key)
                .await?
            {
                Some(stored) => Ok(InsertOutcome::Existing(stored)),
                None => Err(sqlx::Error::RowNotFound),
            },
        }
    }

    /// The signup recorded under this source's key.
    pub async fn find_by_key(
        &self,
        source_id: &str,
        key: &str,
    ) -> Result<Option<Signup>, sqlx::Error> {
        let (sqlite, postgres) = select_signup_where!("source_id = $1 AND idempotency_key = $2");
        let row = sqlx::query(self.backend.pick(sqlite, postgres))
            .bind(source_id)
            .bind(key)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(with_steps).transpose()
    }

    /// The signup with this id.
    pub async fn signup(&self, id: &str) -> Result<Option<Signup>, sqlx::Error> {
        let (sqlite, postgres) = select_signup_where!("id = $1");
        let row = sqlx::query(self.backend.pick(sqlite, postgres))
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(with_steps).transpose()
    }

    pub(super) async fn steps_of(&self, id: &str) -> Result<Vec<Step>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT name, state FROM signup_steps WHERE signup_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(Step {
                    name: r.try_get("name")?,
                    state: StepState::parse(&state).unwrap_or(StepState::Pending),
                })
            })
            .collect()
    }
}

/// Inside the batch's transaction: bind the token's `jti`, then insert the signup and its steps
/// (times `now`) unless its (source, key) is taken. `None` when the `jti` is bound to another key (nothing
/// written), else whether the row is new.
pub(super) async fn insert_in(
    conn: &mut AnyConnection,
    new: &NewSignupRecord,
    now: i64,
) -> Result<Option<bool>, sqlx::Error> {
    if let Some(jti) = &new.jti
        && bind_in(conn, &new.source_id, jti, &new.idempotency_key).await? != new.idempotency_key
    {
        return Ok(None);
    }
    let inserted = sqlx::query(
        "INSERT INTO signups (id, source_id, idempotency_key, fingerprint, tenant, email,
             display_name, status, attempt_limit, next_attempt_at, created_at, updated_at,
             trace_parent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $10, $9, $9, $11)
         ON CONFLICT (source_id, idempotency_key) DO NOTHING",
    )
    .bind(&new.id)
    .bind(&new.source_id)
    .bind(&new.idempotency_key)
    .bind(&new.fingerprint)
    .bind(&new.tenant)
    .bind(&new.email)
    .bind(&new.display_name)
    .bind(i64::from(new.attempt_limit))
    .bind(now)
    .bind(new.not_before.map_or(now, |t| t.max(now)))
    .bind(&new.trace_parent)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        for (position, name) in new.steps.iter().enumerate() {
            sqlx::query(
                "INSERT INTO signup_steps (signup_id, position, name, state, updated_at)
                 VALUES ($1, $2, $3, 'pending', $4)",
            )
            .bind(&new.id)
            .bind(position as i64)
            .bind(name)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(Some(inserted))
}

/// A signup row without its steps (filled in by the caller).
pub(super) fn signup_from_row(row: &AnyRow) -> Result<Signup, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let customer: Option<String> = row.try_get("customer")?;
    Ok(Signup {
        id: row.try_get("id")?,
        source_id: row.try_get("source_id")?,
        idempotency_key: row.try_get("idempotency_key")?,
        fingerprint: row.try_get("fingerprint")?,
        tenant: row.try_get("tenant")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        status: SignupStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown signup status {status:?}").into())
        })?,
        steps: Vec::new(),
        customer: customer.and_then(|c| serde_json::from_str(&c).ok()),
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        attempt_limit: row.try_get::<i64, _>("attempt_limit")? as u32,
        last_error: row.try_get("last_error")?,
        last_error_detail: row.try_get("last_error_detail")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        lease_version: row.try_get("lease_version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
