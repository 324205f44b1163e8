//! The credentials of app installations, provided to the JSM client (which knows nothing of
//! the database): Connect signs each call with the installation's sharedSecret; Forge sends
//! the app system token the last Forge call brought.
//!
//! A Forge token that is missing or expires within [`TOKEN_MARGIN`] is never sent: its
//! signups wait (see `waiting`). A 401 drops the token it was sent with (a newer one stays).
//! A 403 within `forge.permission_grace` of the install is retried — the app's permissions
//! may lag the install event — and later fails the signup naming the missing permission.

use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::Method;
use url::Url;

use crate::domain::now_ms;
use crate::jsm::{AppCredentials, JsmError, connect_token};
use crate::store::{ForgeState, InstallationState, Store};

/// A Forge token is not used this close to its exp.
pub const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// What the customer API needs and an app may lack (named in `lastError`).
pub const CUSTOMER_PERMISSION: &str = "Jira administrator global permission the customer API needs";

/// Calls as the Connect app installed under `client_key`.
pub struct ConnectCredentials {
    pub app_key: String,
    pub client_key: String,
    pub store: Store,
    /// `connect.allowed_base_hosts`, checked again before each signed call.
    pub allowed_base_hosts: Vec<String>,
}

/// The stored URL an installation's secret belongs to, checked before each call with it: the
/// URL called must be that one, and on the allowed hosts (it may have changed since the run
/// resolved its target).
fn check_stored_url(
    stored: &str,
    base: &Url,
    allowed: impl Fn(&Url) -> bool,
) -> Result<(), JsmError> {
    match Url::parse(stored) {
        Ok(url) if url == *base && allowed(&url) => Ok(()),
        _ => Err(JsmError::Auth(
            "the installation's stored URL is not the one called, or not on an allowed host".into(),
        )),
    }
}

impl AppCredentials for ConnectCredentials {
    fn authorization<'a>(
        &'a self,
        method: &'a Method,
        base: &'a Url,
        url: &'a Url,
    ) -> BoxFuture<'a, Result<String, JsmError>> {
        Box::pin(async move {
            let installation = self
                .store
                .installation(&self.client_key)
                .await
                .map_err(|e| JsmError::Auth(format!("cannot read the installation: {e}")))?
                .filter(|i| i.state == InstallationState::Installed);
            let installation = installation.ok_or_else(|| {
                JsmError::Auth(format!(
                    "installation {:?} is not installed",
                    self.client_key
                ))
            })?;
            check_stored_url(&installation.base_url, base, |url| {
                crate::config::base_hosts::is_allowed(url, &self.allowed_base_hosts)
            })?;
            let secret = installation.shared_secret.ok_or_else(|| {
                JsmError::Auth(format!(
                    "installation {:?} is not installed",
                    self.client_key
                ))
            })?;
            let iat = now_ms() / 1000;
            let token = connect_token(&self.app_key, &secret, method, base, url, iat)?;
            Ok(format!("JWT {token}"))
        })
    }

    fn refused<'a>(&'a self, _authorization: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async { false })
    }
}

/// Calls as the Forge app installed under `installation_id`.
pub struct ForgeCredentials {
    pub installation_id: String,
    pub store: Store,
    pub permission_grace: Duration,
    /// `[forge]`, whose `api_hosts` are checked again before each call with the token.
    pub forge: crate::config::ForgeConfig,
}

impl AppCredentials for ForgeCredentials {
    fn authorization<'a>(
        &'a self,
        _method: &'a Method,
        base: &'a Url,
        _url: &'a Url,
    ) -> BoxFuture<'a, Result<String, JsmError>> {
        Box::pin(async move {
            let installation = self
                .store
                .forge_installation(&self.installation_id)
                .await
                .map_err(|e| JsmError::Auth(format!("cannot read the installation: {e}")))?
                .filter(|i| i.state == ForgeState::Installed);
            if let Some(i) = &installation {
                check_stored_url(&i.api_base_url, base, |url| {
                    self.forge.api_base_allowed(url.as_str())
                })?;
            }
            let margin = TOKEN_MARGIN.as_millis() as i64;
            let token = installation
                .filter(|i| {
                    i.token_expires_at
                        .is_some_and(|exp| exp.saturating_sub(now_ms()) > margin)
                })
                .and_then(|i| i.system_token)
                .ok_or_else(|| {
                    JsmError::Auth(
                        "the Forge installation has no usable system token; \
                         waiting for the next Forge call"
                            .into(),
                    )
                })?;
            Ok(format!("Bearer {}", token.expose()))
        })
    }

    fn refused<'a>(&'a self, authorization: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            if let Some(token) = authorization.strip_prefix("Bearer ") {
                match self
                    .store
                    .drop_forge_token(&self.installation_id, token)
                    .await
                {
                    Ok(dropped) => tracing::warn!(
                        tenant = %self.installation_id,
                        dropped,
                        "JSM refused the Forge system token (401); waiting for the next Forge call"
                    ),
                    Err(e) => tracing::warn!(error = %e, "could not drop the refused token"),
                }
            }
            // No token can be fetched on demand: only Forge's next call brings one.
            false
        })
    }

    fn forbidden(&self) -> BoxFuture<'_, JsmError> {
        Box::pin(async move {
            let installed_at = self
                .store
                .forge_installation(&self.installation_id)
                .await
                .ok()
                .flatten()
                .map(|i| i.installed_at);
            let grace = self.permission_grace.as_millis() as i64;
            match installed_at {
                Some(at) if now_ms() - at < grace => JsmError::Forbidden,
                _ => JsmError::PermissionMissing(CUSTOMER_PERMISSION.into()),
            }
        })
    }
}
