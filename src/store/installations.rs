//! Connect installations (docs/API.md, Connect routes). The sharedSecret is never read by listing.
//!
//! State transitions are single UPDATEs whose WHERE clause encodes the rule, so concurrent
//! lifecycle callbacks cannot undo each other: `disabled`/`enabled` never touch an
//! uninstalled row, and `uninstalled` wins whatever arrives before or after it. An uninstall
//! also erases the sharedSecret (stored as ''): nothing may be signed or verified with it again.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, sealed};
use crate::config::Secret;
use crate::domain::now_ms;

/// One line of `installations list`: no secret.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallationSummary {
    pub client_key: String,
    pub state: String,
    pub base_url: String,
}

/// Where an installation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallationState {
    Installed,
    Disabled,
    Uninstalled,
}

impl InstallationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Installed => "installed",
            Self::Disabled => "disabled",
            Self::Uninstalled => "uninstalled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "installed" => Some(Self::Installed),
            "disabled" => Some(Self::Disabled),
            "uninstalled" => Some(Self::Uninstalled),
            _ => None,
        }
    }
}

/// A stored installation. `Debug` shows the secret as `[redacted]`.
#[derive(Debug, Clone)]
pub struct Installation {
    pub client_key: String,
    /// None once uninstalled (the secret is erased).
    pub shared_secret: Option<Secret>,
    pub base_url: String,
    pub state: InstallationState,
}

/// What an `installed` callback records.
#[derive(Debug, Clone)]
pub struct NewInstallation {
    pub client_key: String,
    pub shared_secret: Secret,
    pub base_url: String,
    pub display_url: Option<String>,
    pub product_type: Option<String>,
    pub description: Option<String>,
}

/// The columns `installation_from_row` reads, for `concat!` into static SQL.
macro_rules! columns {
    () => {
        "client_key, shared_secret, base_url, state"
    };
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

    /// Record an install; a re-install of the clientKey replaces secret, baseUrl and details
    /// and makes it `installed` again.
    pub async fn save_installation(&self, new: &NewInstallation) -> Result<(), sqlx::Error> {
        let now = now_ms();
        self.write_alone(
            sqlx::query(
                "INSERT INTO installations (client_key, shared_secret, base_url, display_url,
                 product_type, description, state, installed_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'installed', $7, $7)
             ON CONFLICT (client_key) DO UPDATE SET shared_secret = excluded.shared_secret,
                 base_url = excluded.base_url, display_url = excluded.display_url,
                 product_type = excluded.product_type, description = excluded.description,
                 state = 'installed', installed_at = excluded.installed_at,
                 updated_at = excluded.updated_at",
            )
            .bind(&new.client_key)
            .bind(sealed::conceal(
                self.key(),
                &sealed::shared_secret_context(&new.client_key, &new.base_url),
                new.shared_secret.expose(),
            ))
            .bind(&new.base_url)
            .bind(&new.display_url)
            .bind(&new.product_type)
            .bind(&new.description)
            .bind(now),
        )
        .await
        .map(drop)
    }

    /// Mark uninstalled and erase the secret; false when the clientKey is unknown.
    pub async fn uninstall_installation(&self, client_key: &str) -> Result<bool, sqlx::Error> {
        let n = self
            .write_alone(sqlx::query(
            "UPDATE installations SET state = 'uninstalled', shared_secret = '', updated_at = $2
             WHERE client_key = $1",
        )
        .bind(client_key)
        .bind(now_ms()))
            .await?;
        Ok(n == 1)
    }

    /// `enabled` / `disabled`: changes nothing for an uninstalled (or unknown) installation;
    /// returns whether a row changed state.
    pub async fn set_installation_enabled(
        &self,
        client_key: &str,
        enabled: bool,
    ) -> Result<bool, sqlx::Error> {
        let state = match enabled {
            true => InstallationState::Installed,
            false => InstallationState::Disabled,
        };
        let n = self
            .write_alone(
                sqlx::query(
                    "UPDATE installations SET state = $2, updated_at = $3
             WHERE client_key = $1 AND state <> 'uninstalled'",
                )
                .bind(client_key)
                .bind(state.as_str())
                .bind(now_ms()),
            )
            .await?;
        Ok(n == 1)
    }

    /// The installation with this clientKey.
    pub async fn installation(
        &self,
        client_key: &str,
    ) -> Result<Option<Installation>, sqlx::Error> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM installations WHERE client_key = $1"
        );
        let row = sqlx::query(sql)
            .bind(client_key)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref()
            .map(|r| installation_from_row(r, self.key()))
            .transpose()
    }

    /// The installation a source's `tenant` names: its clientKey, else its baseUrl (trailing
    /// slash ignored; an installed one first, then the most recently changed).
    pub async fn installation_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<Installation>, sqlx::Error> {
        if let Some(found) = self.installation(reference).await? {
            return Ok(Some(found));
        }
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM installations WHERE rtrim(base_url, '/') = rtrim($1, '/')
             ORDER BY (state = 'installed') DESC, updated_at DESC LIMIT 1"
        );
        let row = sqlx::query(sql)
            .bind(reference)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref()
            .map(|r| installation_from_row(r, self.key()))
            .transpose()
    }
}

fn installation_from_row(
    row: &AnyRow,
    key: Option<&sealed::SecretBox>,
) -> Result<Installation, sqlx::Error> {
    let state: String = row.try_get("state")?;
    let client_key: String = row.try_get("client_key")?;
    let stored: String = row.try_get("shared_secret")?;
    let base_url: String = row.try_get("base_url")?;
    let context = sealed::shared_secret_context(&client_key, &base_url);
    let legacy = sealed::legacy::shared_secret_context(&client_key);
    // Rows an older version sealed open under the legacy context until the start-up pass
    // reseals them (`reseal`); a row whose baseUrl was changed opens under neither.
    let (secret, _) = sealed::reveal_bound(key, &context, &legacy, &stored)
        .map_err(|e| sqlx::Error::Decode(e.into()))?;
    Ok(Installation {
        client_key,
        shared_secret: (!secret.is_empty()).then(|| Secret::new(secret)),
        base_url,
        state: InstallationState::parse(&state).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown installation state {state:?}").into())
        })?,
    })
}
