//! Connect installations (SPEC §5). The sharedSecret is never read by listing.

use sqlx::Row;

use super::Store;

/// One line of `installations list`: no secret.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallationSummary {
    pub client_key: String,
    pub state: String,
    pub base_url: String,
}

impl Store {
    pub async fn list_installations(&self) -> Result<Vec<InstallationSummary>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT client_key, state, base_url FROM installations ORDER BY client_key",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InstallationSummary {
                    client_key: r.try_get("client_key")?,
                    state: r.try_get("state")?,
                    base_url: r.try_get("base_url")?,
                })
            })
            .collect()
    }
}
