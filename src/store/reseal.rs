//! The start-up pass over sealed secrets (moved whole from `sealed.rs`, and extended): every
//! sealed value must open with the configured key, so a missing or wrong key stops start-up
//! with a clear message instead of failing call after call; and a Connect sharedSecret or
//! Forge system token sealed by an earlier version — before its URL was part of the sealing
//! context — is resealed under the bound context here, once (docs/DECISIONS.md).

use super::sealed::{self, legacy, reveal, reveal_bound};

impl super::Store {
    /// See the module doc.
    pub(super) async fn check_sealed_secrets(&self) -> Result<(), sqlx::Error> {
        let config_error = |e: sealed::SealError| sqlx::Error::Configuration(e.into());
        let local: Vec<(String, String)> = sqlx::query_as(
            "SELECT 'local_secrets.value:' || name, value FROM local_secrets
             WHERE value LIKE 'enc:v1:%'",
        )
        .fetch_all(&self.reader)
        .await?;
        for (context, stored) in local {
            reveal(self.key(), &context, &stored).map_err(config_error)?;
        }
        let connect: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT client_key, base_url, shared_secret FROM installations
             WHERE shared_secret LIKE 'enc:v1:%'",
        )
        .fetch_all(&self.reader)
        .await?;
        for (client_key, base_url, stored) in connect {
            let context = sealed::shared_secret_context(&client_key, &base_url);
            let old = legacy::shared_secret_context(&client_key);
            let (plain, was_legacy) =
                reveal_bound(self.key(), &context, &old, &stored).map_err(config_error)?;
            if was_legacy && let Some(key) = self.key() {
                let update = sqlx::query(
                    "UPDATE installations SET shared_secret = $3
                     WHERE client_key = $1 AND shared_secret = $2",
                )
                .bind(client_key)
                .bind(stored)
                .bind(key.seal(&context, &plain));
                self.write_alone(update).await?;
            }
        }
        let forge: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT installation_id, api_base_url, system_token FROM forge_installations
             WHERE system_token LIKE 'enc:v1:%'",
        )
        .fetch_all(&self.reader)
        .await?;
        for (installation_id, api_base_url, stored) in forge {
            let context = sealed::forge_token_context(&installation_id, &api_base_url);
            let old = legacy::forge_token_context(&installation_id);
            let (plain, was_legacy) =
                reveal_bound(self.key(), &context, &old, &stored).map_err(config_error)?;
            if was_legacy && let Some(key) = self.key() {
                let update = sqlx::query(
                    "UPDATE forge_installations SET system_token = $3
                     WHERE installation_id = $1 AND system_token = $2",
                )
                .bind(installation_id)
                .bind(stored)
                .bind(key.seal(&context, &plain));
                self.write_alone(update).await?;
            }
        }
        Ok(())
    }
}
