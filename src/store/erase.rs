//! Erasing a person's data (`signups erase` and the console's Erase, one function): every
//! signup of an email keeps its id, status, times, key, fingerprint and JSM account id, and
//! loses the email, the display name and the customer profile, which become `erased`. The
//! texts its failed runs left (`last_error_detail` and the details of `signup_attempts`) keep
//! JSM's and the bridge's words but lose the person's emails and names (`PersonalText`), in the
//! same transaction; `lastError` summaries never hold any and stay. The audit entry names the
//! signup ids and how many, never the email.
//!
//! The JSM customer is not touched. A pending signup cannot be delivered without its email, so
//! it ends `failed` (with its lease fenced off, so a run in flight cannot record over it) and
//! no retry takes an erased signup again.

use sqlx::Row;

use super::Store;
use super::backend::Dialect as _;
use super::email_match::EmailMatch;
use crate::domain::{ERASED, PersonalText, SignupStatus, now_ms};

/// The detail a pending signup ends with when erased.
const ERASED_BEFORE_DELIVERY: &str = "erased before delivery";

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
        let email = EmailMatch::new(&email, 1);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, source_id, status, created_at, email FROM signups
             WHERE {} ORDER BY created_at, id",
            email.sql()
        )));
        for form in email.binds() {
            query = query.bind(form.clone());
        }
        let rows = query.fetch_all(&self.reader).await?;
        rows.iter()
            .filter(|r| {
                r.try_get::<String, _>("email")
                    .is_ok_and(|e| email.accepts(&e))
            })
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
        let email = EmailMatch::new(&email, 1);
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        // On PostgreSQL the rows are locked until the commit, so a run's outcome cannot land
        // between this read and the writes below (SQLite's write transaction is already alone).
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, source_id, status, created_at, email, display_name, customer,
                    last_error_detail
             FROM signups WHERE {}{}",
            email.sql(),
            self.backend.pick("", " FOR UPDATE")
        )));
        for form in email.binds() {
            query = query.bind(form.clone());
        }
        let rows = query.fetch_all(&mut *tx).await?;
        let mut taken = Vec::new();
        let mut person = PersonalText::default();
        for r in rows {
            let stored: String = r.try_get("email")?;
            if email.accepts(&stored) {
                let name: String = r.try_get("display_name")?;
                let customer: Option<String> = r.try_get("customer")?;
                person.add(&stored, &name, customer.as_deref());
                taken.push(r);
            }
        }
        let mut erased = Vec::new();
        for r in &taken {
            let id: String = r.try_get("id")?;
            let customer: Option<String> = r.try_get("customer")?;
            let status: String = r.try_get("status")?;
            let status = SignupStatus::parse(&status).unwrap_or(SignupStatus::Pending);
            let detail: Option<String> = r.try_get("last_error_detail")?;
            let detail = match status {
                SignupStatus::Pending => Some(ERASED_BEFORE_DELIVERY.to_string()),
                _ => detail.map(|d| person.redact(&d)),
            };
            sqlx::query(
                "UPDATE signups SET email = $2, display_name = $2, customer = $3,
                     status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END,
                     last_error = CASE WHEN status = 'pending' THEN $4 ELSE last_error END,
                     last_error_detail = $6,
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
            .bind(detail)
            .execute(&mut *tx)
            .await?;
            // After the fence above: no run can add to the history any more.
            let runs = sqlx::query(
                "SELECT run, detail FROM signup_attempts WHERE signup_id = $1 ORDER BY run",
            )
            .bind(&id)
            .fetch_all(&mut *tx)
            .await?;
            for run in &runs {
                let before: String = run.try_get("detail")?;
                let after = person.redact(&before);
                if after != before {
                    sqlx::query(
                        "UPDATE signup_attempts SET detail = $3 WHERE signup_id = $1 AND run = $2",
                    )
                    .bind(&id)
                    .bind(run.try_get::<i64, _>("run")?)
                    .bind(after)
                    .execute(&mut *tx)
                    .await?;
                }
            }
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

    /// The email `target` names (any case), if a signup still holds it.
    async fn email_of(&self, target: &EraseTarget) -> Result<Option<String>, sqlx::Error> {
        let email = match target {
            EraseTarget::Email(email) => email.trim().to_string(),
            EraseTarget::Id(id) => match self.signup(id).await? {
                Some(signup) => signup.email,
                None => return Ok(None),
            },
        };
        let folded = super::email_match::fold(&email);
        Ok((folded != ERASED && !folded.is_empty()).then_some(email))
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
