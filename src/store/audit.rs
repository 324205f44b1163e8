//! The audit log: who (an admin token's label, a proxy's user, `cli`) did what (sign-in,
//! sign-out, reveal, retry, bulk retry, erase) to which signups, and when. Written by the
//! console and by `signups erase`; read newest first; purged after `console.audit_retention`.

use sqlx::Row;

use super::Store;
use crate::domain::now_ms;

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Login,
    Logout,
    Reveal,
    Retry,
    BulkRetry,
    Erase,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Logout => "logout",
            Self::Reveal => "reveal",
            Self::Retry => "retry",
            Self::BulkRetry => "bulk_retry",
            Self::Erase => "erase",
        }
    }
}

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: String,
    /// Unix ms.
    pub at: i64,
    pub who: String,
    pub action: String,
    pub signup_ids: Vec<String>,
    pub detail: Option<String>,
}

impl Store {
    /// Append an entry (its own commit).
    pub async fn audit(
        &self,
        who: &str,
        action: AuditAction,
        signup_ids: &[String],
        detail: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let ids = serde_json::to_string(signup_ids).unwrap_or_else(|_| "[]".into());
        self.write_alone(
            sqlx::query(
                "INSERT INTO audit_log (id, at, who, action, signup_ids, detail)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(now_ms())
            .bind(who)
            .bind(action.as_str())
            .bind(ids)
            .bind(detail),
        )
        .await?;
        Ok(())
    }

    /// Up to `limit` entries, newest first, older than the `(at, id)` cursor when given.
    pub async fn audit_page(
        &self,
        before: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, sqlx::Error> {
        let (at, id) = before.unzip();
        let rows = sqlx::query(
            "SELECT id, at, who, action, signup_ids, detail FROM audit_log
             WHERE ($1 IS NULL OR at < $1 OR (at = $1 AND id < $2))
             ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(at)
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let ids: String = r.try_get("signup_ids")?;
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    who: r.try_get("who")?,
                    action: r.try_get("action")?,
                    signup_ids: serde_json::from_str(&ids).unwrap_or_default(),
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// Delete entries recorded before `before` (Unix ms); returns how many.
    pub async fn purge_audit(&self, before: i64) -> Result<u64, sqlx::Error> {
        self.write_alone(sqlx::query("DELETE FROM audit_log WHERE at < $1").bind(before))
            .await
    }
}
