//! Forge Remote installations (keyed by `app.installationId`) and the app system token each
//! holds. The token is sealed at rest like a Connect sharedSecret and is never listed.
//!
//! Writes are single statements whose SQL carries the rules, so concurrent Forge calls cannot
//! undo each other: a token replaces the stored one only when it expires no earlier; a call
//! without a token keeps the stored one; an uninstalled installation takes no token until an
//! `installed` event; an uninstall erases the token.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, sealed};
use crate::config::Secret;
use crate::domain::now_ms;

/// Where a Forge installation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgeState {
    Installed,
    Uninstalled,
}

impl ForgeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Installed => "installed",
            Self::Uninstalled => "uninstalled",
        }
    }
}

/// A stored Forge installation. `Debug` shows the token as `[redacted]`.
#[derive(Debug, Clone)]
pub struct ForgeInstallation {
    pub installation_id: String,
    pub api_base_url: String,
    pub cloud_id: Option<String>,
    pub site_url: Option<String>,
    /// None when no Forge call brought one yet, or it was dropped or erased.
    pub system_token: Option<Secret>,
    /// The token's exp, Unix ms.
    pub token_expires_at: Option<i64>,
    pub state: ForgeState,
    /// The last `installed` event (Unix ms): the permission grace counts from it.
    pub installed_at: i64,
}

/// One line of `installations list` for Forge: never the token.
#[derive(Debug, Clone)]
pub struct ForgeInstallationSummary {
    pub installation_id: String,
    pub state: String,
    pub site_url: Option<String>,
    pub token_expires_at: Option<i64>,
}

/// What a verified Forge call tells about its installation.
#[derive(Debug, Clone)]
pub struct ForgeCall {
    pub installation_id: String,
    pub app_id: String,
    pub environment_type: Option<String>,
    pub environment_id: Option<String>,
    pub api_base_url: String,
    pub cloud_id: Option<String>,
    pub site_url: Option<String>,
    /// The `x-forge-oauth-system` token and its exp (Unix ms).
    pub token: Option<(Secret, i64)>,
    /// An `installed` event: (re)installs and restarts the permission grace.
    pub installs: bool,
}

/// Whether a new token ($8, exp $9) replaces the stored one; `$11` = the call installs.
macro_rules! takes_token {
    () => {
        "($8 <> '' AND (forge_installations.state = 'installed' OR $11)
          AND (forge_installations.system_token = ''
               OR forge_installations.token_expires_at IS NULL
               OR $9 >= forge_installations.token_expires_at))"
    };
}

impl Store {
    /// Record a verified Forge call (see the module doc for the rules).
    pub async fn record_forge_call(&self, call: &ForgeCall) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let (token, exp) = match &call.token {
            Some((token, exp)) => (
                sealed::conceal(
                    self.key(),
                    &sealed::forge_token_context(
                        &call.installation_id,
                        call.api_base_url.trim_end_matches('/'),
                    ),
                    token.expose(),
                ),
                Some(*exp),
            ),
            None => (String::new(), None),
        };
        let sql = concat!(
            "INSERT INTO forge_installations (installation_id, app_id, environment_type,
                 environment_id, api_base_url, cloud_id, site_url, system_token,
                 token_expires_at, state, installed_at, last_seen_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'installed', $10, $10, $10)
             ON CONFLICT (installation_id) DO UPDATE SET app_id = excluded.app_id,
                 environment_type = excluded.environment_type,
                 environment_id = excluded.environment_id,
                 api_base_url = excluded.api_base_url,
                 cloud_id = coalesce(excluded.cloud_id, forge_installations.cloud_id),
                 site_url = coalesce(excluded.site_url, forge_installations.site_url),
                 system_token = CASE WHEN ",
            takes_token!(),
            // A kept token is sealed to the old apiBaseUrl: a call that moves the URL without
            // bringing a token leaves none (the next Forge call brings one).
            " THEN $8 WHEN forge_installations.api_base_url <> $5 THEN ''
                 ELSE forge_installations.system_token END,
                 token_expires_at = CASE WHEN ",
            takes_token!(),
            " THEN $9 WHEN forge_installations.api_base_url <> $5 THEN NULL
                 ELSE forge_installations.token_expires_at END,
                 state = CASE WHEN $11 THEN 'installed' ELSE forge_installations.state END,
                 installed_at = CASE WHEN $11 THEN $10 ELSE forge_installations.installed_at END,
                 last_seen_at = $10, updated_at = $10"
        );
        self.write_alone(
            sqlx::query(sql)
                .bind(&call.installation_id)
                .bind(&call.app_id)
                .bind(&call.environment_type)
                .bind(&call.environment_id)
                .bind(call.api_base_url.trim_end_matches('/'))
                .bind(&call.cloud_id)
                .bind(call.site_url.as_deref().map(|s| s.trim_end_matches('/')))
                .bind(token)
                .bind(exp)
                .bind(now)
                .bind(call.installs),
        )
        .await
        .map(drop)
    }

    /// `preUninstall`: mark uninstalled and erase the token; false when unknown.
    pub async fn uninstall_forge(&self, installation_id: &str) -> Result<bool, sqlx::Error> {
        let n = self
            .write_alone(
                sqlx::query(
                    "UPDATE forge_installations SET state = 'uninstalled', system_token = '',
                 token_expires_at = NULL, last_seen_at = $2, updated_at = $2
             WHERE installation_id = $1",
                )
                .bind(installation_id)
                .bind(now_ms()),
            )
            .await?;
        Ok(n == 1)
    }

    /// JSM refused `token` (401): forget it, unless a newer token replaced it meanwhile.
    pub async fn drop_forge_token(
        &self,
        installation_id: &str,
        token: &str,
    ) -> Result<bool, sqlx::Error> {
        let Some((stored, current)) = self.stored_forge_token(installation_id).await? else {
            return Ok(false);
        };
        if current != token {
            return Ok(false);
        }
        let n = self
            .write_alone(
                sqlx::query(
                    "UPDATE forge_installations SET system_token = '', token_expires_at = NULL,
                 updated_at = $3
             WHERE installation_id = $1 AND system_token = $2",
                )
                .bind(installation_id)
                .bind(stored)
                .bind(now_ms()),
            )
            .await?;
        Ok(n == 1)
    }

    async fn stored_forge_token(
        &self,
        installation_id: &str,
    ) -> Result<Option<(String, String)>, sqlx::Error> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT system_token, api_base_url FROM forge_installations
             WHERE installation_id = $1",
        )
        .bind(installation_id)
        .fetch_optional(&self.reader)
        .await?;
        let Some((stored, api_base_url)) = row.filter(|(s, _)| !s.is_empty()) else {
            return Ok(None);
        };
        let plain = self.reveal_token(installation_id, &api_base_url, &stored)?;
        Ok(Some((stored, plain)))
    }

    /// The Forge installation with this installationId.
    pub async fn forge_installation(
        &self,
        installation_id: &str,
    ) -> Result<Option<ForgeInstallation>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM forge_installations WHERE installation_id = $1")
            .bind(installation_id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(|r| self.forge_from_row(r)).transpose()
    }

    /// The Forge installation a source's `tenant` names: its installationId, cloudId or site
    /// URL (trailing slash ignored; an installed one first, then the most recently seen).
    pub async fn forge_installation_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<ForgeInstallation>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT * FROM forge_installations
             WHERE installation_id = $1 OR cloud_id = $1
                OR rtrim(site_url, '/') = rtrim($1, '/')
             ORDER BY (installation_id = $1) DESC, (state = 'installed') DESC,
                 last_seen_at DESC
             LIMIT 1",
        )
        .bind(reference)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(|r| self.forge_from_row(r)).transpose()
    }

    pub async fn list_forge_installations(
        &self,
    ) -> Result<Vec<ForgeInstallationSummary>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT installation_id, state, site_url, token_expires_at FROM forge_installations
             ORDER BY installation_id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ForgeInstallationSummary {
                    installation_id: r.try_get("installation_id")?,
                    state: r.try_get("state")?,
                    site_url: r.try_get("site_url")?,
                    token_expires_at: r.try_get("token_expires_at")?,
                })
            })
            .collect()
    }

    /// Every tenant that calls JSM as an app (Forge and installed Connect installations):
    /// a global-quota 429 pauses them all.
    pub async fn app_tenants(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT installation_id FROM forge_installations WHERE state = 'installed'
             UNION ALL
             SELECT client_key FROM installations WHERE state = 'installed'",
        )
        .fetch_all(&self.reader)
        .await
    }

    /// A stored system token: sealed to its row and apiBaseUrl, or (written by an older
    /// version, until the start-up pass reseals it) to its row alone.
    fn reveal_token(
        &self,
        installation_id: &str,
        api_base_url: &str,
        stored: &str,
    ) -> Result<String, sqlx::Error> {
        let context = sealed::forge_token_context(installation_id, api_base_url);
        let legacy = sealed::legacy::forge_token_context(installation_id);
        sealed::reveal_bound(self.key(), &context, &legacy, stored)
            .map(|(plain, _)| plain)
            .map_err(|e| sqlx::Error::Decode(e.into()))
    }

    fn forge_from_row(&self, row: &AnyRow) -> Result<ForgeInstallation, sqlx::Error> {
        let installation_id: String = row.try_get("installation_id")?;
        let stored: String = row.try_get("system_token")?;
        let api_base_url: String = row.try_get("api_base_url")?;
        let token = self.reveal_token(&installation_id, &api_base_url, &stored)?;
        let state: String = row.try_get("state")?;
        Ok(ForgeInstallation {
            installation_id,
            api_base_url,
            cloud_id: row.try_get("cloud_id")?,
            site_url: row.try_get("site_url")?,
            system_token: (!token.is_empty()).then(|| Secret::new(token)),
            token_expires_at: row.try_get("token_expires_at")?,
            state: match state.as_str() {
                "installed" => ForgeState::Installed,
                _ => ForgeState::Uninstalled,
            },
            installed_at: row.try_get("installed_at")?,
        })
    }
}
