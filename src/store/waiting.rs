//! Signups that wait without spending a run (a Forge installation without a usable token, or
//! uninstalled): their `lastError` says why, written once per reason, not at every poll.

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
}
