//! The simulator as the Forge platform, for a bridge running as a Forge Remote:
//!
//! - `GET /_sim/forge/jwks.json`: the public key its Forge Invocation Tokens are signed with
//!   (RS256, with a `kid`), for the bridge's `forge.jwks_url`;
//! - `POST /_sim/forge/trigger {"bridgeUrl", "endpoint": "lifecycle"|"refresh"|"uninstall"}`
//!   sends one Forge call: a fresh FIT (`iss` forge/invocation-token, `aud` and `app.id` the
//!   app, `app.installationId`, `app.apiBaseUrl` = this simulator's `/ex/jira/{cloudId}`) and,
//!   unless `withToken` is false, an app system token it issued in `x-forge-oauth-system`;
//!   A call that fails may be retried as Forge retries (`retries`, at most 4), each time with
//!   a fresh FIT;
//! - `POST /_sim/forge/config` sets the 403-after-install and 429 `RateLimit-Reason` modes,
//!   `X-RateLimit-NearLimit`, and revokes the tokens issued so far.
//!
//! The tokens it issues are JWT-shaped (the bridge reads only their `exp`) and are accepted by
//! its JSM API under `/ex/jira/{cloudId}` (see `forge_jsm`) until they expire.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::forge_state::IssuedToken;
use super::installer::shared_key;
use super::state::{SimState, unix_ms};

/// What `POST /_sim/forge/trigger` (and `jsm-sim --forge-install-into`) asks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForgeTrigger {
    pub bridge_url: String,
    /// `lifecycle`, `refresh` or `uninstall`.
    pub endpoint: String,
    /// The app's ARI; defaults to the one of this simulator's last trigger.
    #[serde(default)]
    pub app_id: Option<String>,
    /// Defaults to one derived from the cloudId.
    #[serde(default)]
    pub installation_id: Option<String>,
    /// Defaults to one derived from the simulator's address.
    #[serde(default)]
    pub cloud_id: Option<String>,
    /// `lifecycle` only; `avi:forge:installed:app` by default.
    #[serde(default)]
    pub event_type: Option<String>,
    /// Send the event wrapped as `{"payload": {...}}`.
    #[serde(default)]
    pub wrapped: bool,
    /// Send a system token (default true).
    #[serde(default)]
    pub with_token: Option<bool>,
    /// Life of the system token sent; the simulator's `--forge-token-ttl` by default.
    #[serde(default)]
    pub token_ttl_secs: Option<u64>,
    /// `app.environment.type`; DEVELOPMENT by default.
    #[serde(default)]
    pub environment_type: Option<String>,
    /// Retry a call that fails or is not answered 2xx, as Forge does (at most 4; 1 s, 2 s,
    /// 4 s, 8 s apart); none by default.
    #[serde(default)]
    pub retries: u32,
}

/// Forge retries an event or trigger at most this many times.
pub const MAX_RETRIES: u32 = 4;

/// What happened.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForgeTriggerReport {
    pub endpoint: String,
    pub installation_id: String,
    pub cloud_id: String,
    pub api_base_url: String,
    /// The bridge's answer.
    pub status: u16,
}

/// The `kid` of the simulator's Forge signing key.
pub fn forge_kid() -> Result<String, String> {
    let key = super::installer_key::InstallerKey::shared()?;
    Ok(format!("forge-{}", key.kid()))
}

/// The simulator's Forge JWKS.
pub fn forge_jwks() -> Result<Value, String> {
    use base64::Engine as _;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    let key = super::installer_key::InstallerKey::shared()?;
    let public = rsa::RsaPublicKey::from_public_key_pem(key.public_pem())
        .map_err(|e| format!("cannot read the public key: {e}"))?;
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    Ok(json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": forge_kid()?,
        "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be()),
    }]}))
}

/// Sign FIT `claims` with the simulator's Forge key (its kid in the header).
pub async fn mint_fit(claims: &Value) -> Result<String, String> {
    shared_key().await?.sign_as(claims, &forge_kid()?)
}

/// The claims of a FIT as Forge sends them, valid for a minute from now.
pub fn fit_claims(
    app_id: &str,
    installation_id: &str,
    cloud_id: &str,
    api_base_url: &str,
    site_url: &str,
    environment: &str,
) -> Value {
    let now = unix_ms(std::time::SystemTime::now()) / 1000;
    json!({
        "iss": "forge/invocation-token", "aud": app_id,
        "iat": now, "nbf": now, "exp": now + 60,
        "jti": uuid::Uuid::new_v4().to_string(),
        "app": {
            "id": app_id, "installationId": installation_id, "apiBaseUrl": api_base_url,
            "appVersion": "1.0.0",
            "environment": {"type": environment, "id": format!("ari:cloud:ecosystem::environment/{}", stable_uuid(cloud_id))},
            "module": {"type": "core:endpoint", "key": "signup-bridge"},
        },
        "context": {"cloudId": cloud_id, "siteUrl": site_url},
        "principal": null,
    })
}

/// A uuid-shaped value stable for `seed`.
pub(crate) fn stable_uuid(seed: &str) -> String {
    let d = hex::encode(&Sha256::digest(seed.as_bytes())[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &d[..8],
        &d[8..12],
        &d[12..16],
        &d[16..20],
        &d[20..32]
    )
}

/// The simulator's origin (its JSM base URL without the context path).
fn origin(state: &SimState) -> String {
    let base = state.base_url();
    url::Url::parse(&base)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or(base)
}

/// Issue a system token for `cloud_id`, live for `ttl`.
pub(crate) async fn issue_token(
    state: &SimState,
    installation_id: &str,
    cloud_id: &str,
    ttl: Duration,
) -> Result<String, String> {
    let now = unix_ms(std::time::SystemTime::now());
    let expires_at_ms = now + ttl.as_millis() as u64;
    let claims = json!({
        "iss": "jsm-sim/forge", "sub": installation_id, "aud": "api.atlassian.com",
        "iat": now / 1000, "exp": expires_at_ms / 1000, "jti": uuid::Uuid::new_v4().to_string(),
    });
    let token = shared_key().await?.sign_as(&claims, "forge-system-token")?;
    state.lock().forge.tokens.push(IssuedToken {
        token: token.clone(),
        cloud_id: cloud_id.to_string(),
        expires_at_ms: (expires_at_ms / 1000) * 1000,
    });
    Ok(token)
}

/// Send one Forge call to a bridge.
pub async fn send(state: &SimState, cmd: &ForgeTrigger) -> Result<ForgeTriggerReport, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let path = match cmd.endpoint.as_str() {
        "lifecycle" | "refresh" | "uninstall" => format!("/forge/{}", cmd.endpoint),
        other => {
            return Err(format!(
                "unknown endpoint {other:?} (lifecycle, refresh or uninstall)"
            ));
        }
    };
    let app_id = match &cmd.app_id {
        Some(id) => {
            state.lock().forge_app_id = Some(id.clone());
            id.clone()
        }
        None => state
            .lock()
            .forge_app_id
            .clone()
            .ok_or("no appId given yet")?,
    };
    let origin = origin(state);
    let cloud_id = cmd.cloud_id.clone().unwrap_or_else(|| stable_uuid(&origin));
    let installation_id = cmd.installation_id.clone().unwrap_or_else(|| {
        format!(
            "ari:cloud:ecosystem::installation/{}",
            stable_uuid(&format!("{app_id}{cloud_id}"))
        )
    });
    let api_base_url = format!("{origin}/ex/jira/{cloud_id}");
    let environment = cmd
        .environment_type
        .clone()
        .unwrap_or_else(|| "DEVELOPMENT".into());
    let claims = fit_claims(
        &app_id,
        &installation_id,
        &cloud_id,
        &api_base_url,
        &origin,
        &environment,
    );
    let event_type = cmd
        .event_type
        .clone()
        .unwrap_or_else(|| "avi:forge:installed:app".into());
    let event = json!({
        "eventType": event_type, "id": uuid::Uuid::new_v4().to_string(),
        "app": {"id": app_id}, "context": {"cloudId": cloud_id},
    });
    let body = match (cmd.endpoint.as_str(), cmd.wrapped) {
        ("lifecycle", false) => event,
        ("lifecycle", true) => json!({"payload": event}),
        _ => json!({"context": {"cloudId": cloud_id}}),
    };
    let token = match cmd.with_token.unwrap_or(true) {
        true => {
            let ttl = cmd
                .token_ttl_secs
                .map(Duration::from_secs)
                .unwrap_or(state.config().forge_token_ttl);
            Some(issue_token(state, &installation_id, &cloud_id, ttl).await?)
        }
        false => None,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("{}{path}", cmd.bridge_url.trim_end_matches('/'));
    let mut attempt = 0;
    let status = loop {
        // Each attempt, a retry too, carries a fresh FIT, as Forge's do.
        let fit = mint_fit(&claims).await?;
        let mut request = http.post(&url).bearer_auth(fit).json(&body);
        if let Some(token) = &token {
            request = request.header("x-forge-oauth-system", token);
        }
        let status = request.send().await.map(|r| r.status().as_u16());
        match status {
            Ok(s) if (200..300).contains(&s) => break s,
            _ if attempt < cmd.retries.min(MAX_RETRIES) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
            }
            Ok(s) => break s,
            Err(e) => return Err(format!("cannot reach the bridge: {}", e.without_url())),
        }
    };
    if cmd.endpoint == "lifecycle"
        && event_type == "avi:forge:installed:app"
        && (200..300).contains(&status)
    {
        let now = unix_ms(std::time::SystemTime::now());
        state.lock().forge.set_installed(&cloud_id, now);
    }
    Ok(ForgeTriggerReport {
        endpoint: cmd.endpoint.clone(),
        installation_id,
        cloud_id,
        api_base_url,
        status,
    })
}
