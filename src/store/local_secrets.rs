//! Secrets the bridge generates and keeps for itself, such as the sandbox source's secret.

use super::Store;
use crate::domain::now_ms;

impl Store {
    /// The secret stored under `name`, created with `generate` on first use.
    pub async fn local_secret(
        &self,
        name: &str,
        generate: impl FnOnce() -> String,
    ) -> Result<String, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO local_secrets (name, value, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(generate())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let value: String = sqlx::query_scalar("SELECT value FROM local_secrets WHERE name = ?1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(value)
    }
}
