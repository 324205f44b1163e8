//! Signups that wait without spending a run (a Forge installation without a usable token, or
//! uninstalled): their `lastError` says why, written once per reason, not at every poll.
//! Signups of an installation that stays disabled or uninstalled do not wait forever: past
//! `idempotency.failed_retention` they fail, and are purged like every failed signup.

use super::Store;
use crate::domain::LastError;

impl Store {
    /// Set `error` on the tenant's unleased pending signups that do not carry it yet; how many
    /// changed. A read first, so a tenant that keeps waiting costs no write per poll.
    pub async fn mark_waiting(&self, tenant: &str, error: &LastError) -> Result<u64, sqlx::Error> {
        let unmarked: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM signups
             WHERE tenant = $1 AND status = 'pending' AND lease_owner IS NULL
               AND (last_error IS NULL OR last_error <> $2)",
        )
        .bind(tenant)
        .bind(&error.summary)
        .fetch_one(&self.reader)
        .await?;
        if unmarked == 0 {
            return Ok(0);
        }
        let n = self
            .write_alone(
                sqlx::query(
                    "UPDATE signups SET last_error = $2, last_error_detail = $3
             WHERE tenant = $1 AND status = 'pending' AND lease_owner IS NULL
               AND (last_error IS NULL OR last_error <> $2)",
                )
                .bind(tenant)
                .bind(&error.summary)
                .bind(&error.detail),
            )
            .await?;
        Ok(n)
    }

    /// Fail the pending, unleased signups recorded before `before` (Unix ms) whose tenant is a
    /// Connect installation that is not installed or a Forge installation that is uninstalled;
    /// how many failed. Their pending steps fail too, so `signups retry` can revive them.
    pub async fn fail_stranded(&self, before: i64, error: &LastError) -> Result<u64, sqlx::Error> {
        const STRANDED: &str = "status = 'pending' AND created_at < $1 AND lease_owner IS NULL
              AND (tenant IN (SELECT client_key FROM installations WHERE state <> 'installed')
                OR tenant IN (SELECT installation_id FROM forge_installations
                              WHERE state = 'uninstalled'))";
        let now = crate::domain::now_ms();
        let mut tx = self.begin_write().await?;
        let steps = format!(
            "UPDATE signup_steps SET state = 'failed', updated_at = $2
             WHERE state = 'pending' AND signup_id IN (SELECT id FROM signups WHERE {STRANDED})"
        );
        sqlx::query(sqlx::AssertSqlSafe(steps))
            .bind(before)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let signups = format!(
            "UPDATE signups SET status = 'failed', last_error = $3, last_error_detail = $4,
                 completed_at = $2, updated_at = $2
             WHERE {STRANDED}"
        );
        let n = sqlx::query(sqlx::AssertSqlSafe(signups))
            .bind(before)
            .bind(now)
            .bind(&error.summary)
            .bind(&error.detail)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_db::{each, record};
    use super::super::{NewInstallation, Store};
    use crate::config::Secret;
    use crate::domain::{LastError, SignupStatus, now_ms};

    #[tokio::test]
    async fn signups_of_a_disabled_or_uninstalled_installation_fail_then_are_purged() {
        for db in each("signups_of_a_disabled_or_uninstalled_installation_fail").await {
            let store = Store::open(&db.url).await.unwrap();
            for client_key in ["ck-on", "ck-off", "ck-gone"] {
                let install = NewInstallation {
                    client_key: client_key.into(),
                    shared_secret: Secret::new("shared-secret"),
                    base_url: format!("https://{client_key}.atlassian.net"),
                    display_url: None,
                    product_type: None,
                    description: None,
                };
                store.save_installation(&install).await.unwrap();
            }
            store
                .set_installation_enabled("ck-off", false)
                .await
                .unwrap();
            store.uninstall_installation("ck-gone").await.unwrap();
            let mut ids = Vec::new();
            for (n, tenant) in ["ck-on", "ck-off", "ck-gone", "configured"]
                .iter()
                .enumerate()
            {
                let mut new = record(n, &format!("key-{n}"));
                new.tenant = tenant.to_string();
                store.insert_signup(&new).await.unwrap();
                ids.push(new.id);
            }
            let error = LastError::new("exhausted", "stranded", "stranded");
            // Recorded after the cut-off: nothing fails yet.
            assert_eq!(
                store
                    .fail_stranded(now_ms() - 60_000, &error)
                    .await
                    .unwrap(),
                0
            );
            assert_eq!(store.fail_stranded(now_ms() + 1, &error).await.unwrap(), 2);
            let mut statuses = Vec::new();
            for id in &ids {
                statuses.push(store.signup(id).await.unwrap().unwrap().status);
            }
            use SignupStatus::{Failed, Pending};
            assert_eq!(
                statuses,
                [Pending, Failed, Failed, Pending],
                "{:?}",
                db.backend
            );
            let failed = store.signup(&ids[1]).await.unwrap().unwrap();
            assert_eq!(failed.last_error.as_deref(), Some("exhausted: stranded"));
            // Then purged like every failed signup once past failed_retention.
            let later = now_ms() + 1;
            assert_eq!(store.purge_expired(0, later, 100).await.unwrap(), 2);
            assert!(store.signup(&ids[1]).await.unwrap().is_none());
            assert!(store.signup(&ids[0]).await.unwrap().is_some());
        }
    }
}
