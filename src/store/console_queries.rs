//! The console's reads: the signup list (filtered, keyset-paginated, exact email search in any
//! case, see `email_match`), counts for the overview, per-tenant activity and the
//! last accepted signup per source. Reads only, on the read pool.

use sqlx::Row;

use super::Store;
use super::email_match::EmailMatch;
use crate::domain::SignupStatus;

/// The console's signup list filter; unset fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleFilter {
    pub status: Option<SignupStatus>,
    pub source: Option<String>,
    pub tenant: Option<String>,
    /// Created at or after (Unix ms).
    pub since: Option<i64>,
    /// Created before (Unix ms).
    pub until: Option<i64>,
}

/// One line of the console's signup list (the email as stored: the console masks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignupRow {
    pub id: String,
    pub status: SignupStatus,
    pub tenant: String,
    pub source_id: String,
    pub email: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A tenant's activity as the database shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantActivity {
    pub tenant: String,
    pub pending: i64,
    pub failed: i64,
    /// Latest completion of a created/existing signup (Unix ms).
    pub last_success: Option<i64>,
    /// End of the tenant's 429 pause, if one is recorded (past values included).
    pub hold_until: Option<i64>,
    /// The latest `lastError` of a pending or failed signup.
    pub latest_error: Option<String>,
}

const COLUMNS: &str =
    "id, status, tenant, source_id, email, attempts, last_error, created_at, updated_at";

impl Store {
    /// Up to `limit` signups matching `filter`, newest first (by creation, then id), older
    /// than the `(created_at, id)` cursor when given.
    pub async fn console_signups(
        &self,
        filter: &ConsoleFilter,
        before: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<SignupRow>, sqlx::Error> {
        let (at, id) = before.unzip();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM signups
             WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR source_id = $2)
               AND ($3 IS NULL OR tenant = $3) AND ($4 IS NULL OR created_at >= $4)
               AND ($5 IS NULL OR created_at < $5)
               AND ($6 IS NULL OR created_at < $6 OR (created_at = $6 AND id < $7))
             ORDER BY created_at DESC, id DESC LIMIT $8"
        )))
        .bind(filter.status.map(SignupStatus::as_str))
        .bind(filter.source.as_deref())
        .bind(filter.tenant.as_deref())
        .bind(filter.since)
        .bind(filter.until)
        .bind(at)
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(signup_row).collect()
    }

    /// Signups whose email is `email` in any case (Unicode lowercase compared, the same on
    /// both backends: `email_match`), through the `signups_email_lower` index unless the email
    /// has many non-ASCII letters, newest first.
    pub async fn signups_by_email(
        &self,
        email: &str,
        limit: u32,
    ) -> Result<Vec<SignupRow>, sqlx::Error> {
        let email = EmailMatch::new(email, 1);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM signups WHERE {}
             ORDER BY created_at DESC, id DESC LIMIT ${}",
            email.sql(),
            email.next_param(1)
        )));
        for form in email.binds() {
            query = query.bind(form.clone());
        }
        let rows = query.bind(i64::from(limit)).fetch_all(&self.reader).await?;
        let rows: Vec<SignupRow> = rows.iter().map(signup_row).collect::<Result<_, _>>()?;
        Ok(rows
            .into_iter()
            .filter(|r| email.accepts(&r.email))
            .collect())
    }

    /// (status, count) of signups created at or after `since` (all when None).
    pub async fn status_counts(
        &self,
        since: Option<i64>,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM signups WHERE ($1 IS NULL OR created_at >= $1)
             GROUP BY status",
        )
        .bind(since)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }

    /// When the oldest pending signup was accepted (Unix ms).
    pub async fn oldest_pending(&self) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT MIN(created_at) FROM signups WHERE status = 'pending'")
            .fetch_one(&self.reader)
            .await
    }

    /// (hour since the epoch, status, count) of signups completed at or after `since`.
    pub async fn hourly_outcomes(
        &self,
        since: i64,
    ) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT completed_at / 3600000 AS hour, status, COUNT(*) AS n FROM signups
             WHERE status <> 'pending' AND completed_at >= $1
             GROUP BY completed_at / 3600000, status",
        )
        .bind(since)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("hour")?, r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }

    /// Every tenant that has signups or a recorded pause, with its activity.
    pub async fn tenant_activity(&self) -> Result<Vec<TenantActivity>, sqlx::Error> {
        let mut out: std::collections::BTreeMap<String, TenantActivity> = Default::default();
        let rows = sqlx::query(
            "SELECT tenant, status, COUNT(*) AS n, MAX(completed_at) AS last_done FROM signups
             GROUP BY tenant, status",
        )
        .fetch_all(&self.reader)
        .await?;
        for r in &rows {
            let tenant: String = r.try_get("tenant")?;
            let status: String = r.try_get("status")?;
            let n: i64 = r.try_get("n")?;
            let last: Option<i64> = r.try_get("last_done")?;
            let entry = out.entry(tenant.clone()).or_insert_with(|| TenantActivity {
                tenant,
                ..Default::default()
            });
            match status.as_str() {
                "pending" => entry.pending = n,
                "failed" => entry.failed = n,
                _ => entry.last_success = entry.last_success.max(last),
            }
        }
        for r in sqlx::query("SELECT tenant, until_ms FROM tenant_holds")
            .fetch_all(&self.reader)
            .await?
        {
            let tenant: String = r.try_get("tenant")?;
            let entry = out.entry(tenant.clone()).or_insert_with(|| TenantActivity {
                tenant,
                ..Default::default()
            });
            entry.hold_until = Some(r.try_get("until_ms")?);
        }
        let errors = sqlx::query(
            "SELECT tenant, last_error FROM signups
             WHERE status IN ('pending', 'failed') AND last_error IS NOT NULL
             ORDER BY updated_at DESC LIMIT 500",
        )
        .fetch_all(&self.reader)
        .await?;
        for r in &errors {
            let tenant: String = r.try_get("tenant")?;
            if let Some(entry) = out.get_mut(&tenant)
                && entry.latest_error.is_none()
            {
                entry.latest_error = r.try_get("last_error")?;
            }
        }
        Ok(out.into_values().collect())
    }

    /// (source, when its latest signup was accepted) for every source that has signups.
    pub async fn last_accepted_by_source(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT source_id, MAX(created_at) AS last FROM signups GROUP BY source_id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("source_id")?, r.try_get("last")?)))
            .collect()
    }
}

fn signup_row(r: &sqlx::any::AnyRow) -> Result<SignupRow, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(SignupRow {
        id: r.try_get("id")?,
        status: SignupStatus::parse(&status).unwrap_or(SignupStatus::Pending),
        tenant: r.try_get("tenant")?,
        source_id: r.try_get("source_id")?,
        email: r.try_get("email")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}
