//! Erasing a person's data (`signups erase` and the console's Erase, one function): every
//! signup of an email keeps its id, status, times, key, fingerprint and JSM account id, and
//! loses the email, the display name and the customer profile, which become `erased`.
//!
//! The JSM customer is not touched. A pending signup cannot be delivered without its email, so
//! it ends `failed` (with its lease fenced off, so a run in flight cannot record over it) and
//! no retry takes an erased signup again.

use sqlx::Row;

use super::Store;
use crate::domain::{ERASED, SignupStatus, now_ms};

/// Which person to erase: an email (any case) or a signup id (then every signup of its email).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EraseTarget {
    Email(String),
    Id(String),
}

/// One signup an erase takes, as shown before and after (no personal field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasedSignup {
    pub id: String,
    pub source_id: String,
    pub status: SignupStatus,
    pub created_at: i64,
}

impl Store {
    /// The signups an erase of `target` would take now (already erased ones left out).
    pub async fn erasable(&self, target: &EraseTarget) -> Result<Vec<ErasedSignup>, sqlx::Error> {
        let Some(email) = self.email_of(target).await? else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT id, source_id, status, created_at FROM signups
             WHERE lower(email) = $1 ORDER BY created_at, id",
        )
        .bind(email)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                Ok(ErasedSignup {
                    id: r.try_get("id")?,
                    source_id: r.try_get("source_id")?,
                    status: SignupStatus::parse(&status).unwrap_or(SignupStatus::Pending),
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Erase every signup of `target`'s email in one transaction and record it in the audit log
    /// as `who` did it; the signups erased (none when nothing matched, and nothing recorded).
    pub async fn erase(
        &self,
        target: &EraseTarget,
        who: &str,
    ) -> Result<Vec<ErasedSignup>, sqlx::Error> {
        let Some(email) = self.email_of(target).await? else {
            return Ok(Vec::new());
        };
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, source_id, status, created_at, customer FROM signups
             WHERE lower(email) = $1",
        )
        .bind(&email)
        .fetch_all(&mut *tx)
        .await?;
        let mut erased = Vec::new();
        for r in &rows {
            let id: String = r.try_get("id")?;
            let customer: Option<String> = r.try_get("customer")?;
            let status: String = r.try_get("status")?;
            let status = SignupStatus::parse(&status).unwrap_or(SignupStatus::Pending);
            sqlx::query(
                "UPDATE signups SET email = $2, display_name = $2, customer = $3,
                     status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END,
                     last_error = CASE WHEN status = 'pending' THEN $4 ELSE last_error END,
                     completed_at = COALESCE(completed_at, $5),
                     lease_owner = NULL, lease_until = NULL, lease_version = lease_version + 1,
                     updated_at = $5
                 WHERE id = $1",
            )
            .bind(&id)
            .bind(ERASED)
            .bind(account_only(customer.as_deref()))
            .bind("rejected: erased before delivery")
            .bind(now)
            .execute(&mut *tx)
            .await?;
            erased.push(ErasedSignup {
                id,
                source_id: r.try_get("source_id")?,
                status: match status {
                    SignupStatus::Pending => SignupStatus::Failed,
                    other => other,
                },
                created_at: r.try_get("created_at")?,
            });
        }
        tx.commit().await?;
        if !erased.is_empty() {
            let ids: Vec<String> = erased.iter().map(|s| s.id.clone()).collect();
            let detail = format!("{} signup(s)", ids.len());
            self.audit(who, super::AuditAction::Erase, &ids, Some(&detail))
                .await?;
        }
        Ok(erased)
    }

    /// The lowercase email `target` names, if a signup still holds it.
    async fn email_of(&self, target: &EraseTarget) -> Result<Option<String>, sqlx::Error> {
        let email = match target {
            EraseTarget::Email(email) => email.trim().to_lowercase(),
            EraseTarget::Id(id) => match self.signup(id).await? {
                Some(signup) => signup.email.to_lowercase(),
                None => return Ok(None),
            },
        };
        Ok((email != ERASED && !email.is_empty()).then_some(email))
    }
}

/// What is kept of a stored customer: its `accountId` only (`{"accountId": …}`), else nothing.
fn account_only(customer: Option<&str>) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(customer?).ok()?;
    let account = value.get("accountId")?.as_str()?;
    Some(serde_json::json!({ "accountId": account }).to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_account_id_is_kept() {
        let cases = [
            (
                Some(r#"{"accountId":"qm:1","emailAddress":"a@b.c","displayName":"A"}"#),
                Some(r#"{"accountId":"qm:1"}"#.to_string()),
            ),
            (Some(r#"{"emailAddress":"a@b.c"}"#), None),
            (Some("not json"), None),
            (None, None),
        ];
        for (customer, want) in cases {
            assert_eq!(super::account_only(customer), want, "{customer:?}");
        }
    }
}
