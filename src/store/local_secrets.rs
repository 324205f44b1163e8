//! Secrets the bridge generates and keeps for itself, such as the sandbox source's secret.
//! Sealed at rest when `database.encryption_key` is set; a plaintext value from before the key
//! was set is sealed the first time it is read with the key.

use super::{Store, sealed};
use crate::domain::now_ms;

impl Store {
    /// The secret stored under `name`, created with `generate` on first use.
    pub async fn local_secret(
        &self,
        name: &str,
        generate: impl FnOnce() -> String,
    ) -> Result<String, sqlx::Error> {
        let context = sealed::local_secret_context(name);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO local_secrets (name, value, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(sealed::conceal(self.key(), &context, &generate()))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let stored: String = sqlx::query_scalar("SELECT value FROM local_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        let value = sealed::reveal(self.key(), &context, &stored)
            .map_err(|e| sqlx::Error::Decode(e.into()))?;
        if self.key().is_some() && !sealed::is_sealed(&stored) {
            sqlx::query("UPDATE local_secrets SET value = $2 WHERE name = $1")
                .bind(name)
                .bind(sealed::conceal(self.key(), &context, &value))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(value)
    }

    /// Store `value` under `name`, replacing what was there (the sandbox records where its
    /// simulator listens now).
    pub async fn put_local_secret(&self, name: &str, value: &str) -> Result<(), sqlx::Error> {
        let context = sealed::local_secret_context(name);
        self.write_alone(
            sqlx::query(
                "INSERT INTO local_secrets (name, value, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(name)
            .bind(sealed::conceal(self.key(), &context, value))
            .bind(now_ms()),
        )
        .await
        .map(drop)
    }
}
