//! The simulator as Atlassian's installer: it reads a bridge's descriptor and sends it the
//! Connect lifecycle callbacks, as Jira Cloud does, with the simulator as the Jira site
//! (`baseUrl` = the simulator's JSM base URL).
//!
//! - `installed` / `uninstalled`: RS256 with the simulator's install key (`kid` header),
//!   `iss` = clientKey, `aud` = the descriptor's `baseUrl`, `qsh` of the callback request,
//!   and a fresh `jti`.
//! - `enabled` / `disabled`: HS256 with the sharedSecret given at the last install.
//!
//! After a successful `installed`, the simulator accepts Connect JWTs signed with that
//! install's sharedSecret (a re-install's new secret replaces the old one).
//! `GET /{kid}` serves the public key, so `connect.install_keys_url` can be the simulator.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::config::SimConnect;
use super::installer_key::InstallerKey;
use super::state::SimState;
use crate::auth::qsh::qsh;

/// What `POST /_sim/install` (and `jsm-sim --install-into`) asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstallCommand {
    /// Where the bridge is: its descriptor is `{bridgeUrl}/atlassian-connect.json`.
    pub bridge_url: String,
    /// Defaults to one derived from the simulator's base URL.
    #[serde(default)]
    pub client_key: Option<String>,
    /// `installed` only; a random one by default.
    #[serde(default)]
    pub shared_secret: Option<String>,
    /// `installed` (default), `uninstalled`, `enabled` or `disabled`.
    #[serde(default)]
    pub event: Option<String>,
}

/// What happened.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallReport {
    pub event: String,
    pub client_key: String,
    /// The Jira site's base URL the bridge was given (the simulator's).
    pub base_url: String,
    /// The bridge's answer.
    pub status: u16,
}

/// The simulator's install key, generated off the async threads on first use.
pub async fn shared_key() -> Result<&'static InstallerKey, String> {
    tokio::task::spawn_blocking(InstallerKey::shared)
        .await
        .map_err(|e| format!("key generation failed: {e}"))?
}

/// Send one lifecycle callback to a bridge.
pub async fn send(state: &SimState, cmd: &InstallCommand) -> Result<InstallReport, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| e.to_string())?;
    let bridge = cmd.bridge_url.trim_end_matches('/');
    let descriptor: Value = http
        .get(format!("{bridge}/atlassian-connect.json"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("cannot read the descriptor: {e}"))?
        .json()
        .await
        .map_err(|e| format!("the descriptor is not JSON: {e}"))?;
    let field = |path: &[&str]| {
        path.iter()
            .try_fold(&descriptor, |v, k| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("the descriptor has no {}", path.join(".")))
    };
    let event = cmd.event.clone().unwrap_or_else(|| "installed".into());
    let app_key = field(&["key"])?;
    let app_base = field(&["baseUrl"])?;
    let path = field(&["lifecycle", event.as_str()])?;
    let site = state.base_url();
    let client_key = cmd
        .client_key
        .clone()
        .unwrap_or_else(|| default_client_key(&site));
    let now = crate::domain::now_ms() / 1000;
    let mut claims = json!({
        "iss": client_key, "iat": now, "exp": now + 180, "qsh": qsh("POST", &path, ""),
    });
    let mut payload = json!({
        "key": app_key, "clientKey": client_key, "baseUrl": site, "displayUrl": site,
        "productType": "jira", "description": "Jira Service Management simulator",
        "eventType": event,
    });
    let token = match event.as_str() {
        "installed" | "uninstalled" => {
            claims["aud"] = json!([app_base]);
            // A fresh jti each time: the bridge accepts an install token once, and two
            // callbacks within the same second would otherwise be the very same token.
            claims["jti"] = json!(uuid::Uuid::new_v4().to_string());
            shared_key().await?.sign(&claims)?
        }
        "enabled" | "disabled" => {
            let secret = state
                .installed_secret(&client_key)
                .ok_or("this clientKey was never installed by this simulator")?;
            hs256(&claims, &secret)?
        }
        other => return Err(format!("unknown lifecycle event {other:?}")),
    };
    let secret = cmd
        .shared_secret
        .clone()
        .unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rng(), 64));
    if event == "installed" {
        payload["sharedSecret"] = json!(secret);
    }
    let status = http
        .post(format!("{}{path}", app_base.trim_end_matches('/')))
        .header("Authorization", format!("JWT {token}"))
        .json(&payload)
        .send()
        .await
        .map_err(|e| format!("cannot reach the bridge: {e}"))?
        .status()
        .as_u16();
    if event == "installed" && (200..300).contains(&status) {
        let app = SimConnect {
            app_key,
            shared_secret: secret,
        };
        state.set_installed_app(&client_key, app);
    }
    Ok(InstallReport {
        event,
        client_key,
        base_url: site,
        status,
    })
}

fn hs256(claims: &Value, secret: &str) -> Result<String, String> {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let key = EncodingKey::from_secret(secret.as_bytes());
    encode(&Header::new(Algorithm::HS256), claims, &key).map_err(|e| e.to_string())
}

/// A clientKey stable for one simulator address.
fn default_client_key(site: &str) -> String {
    let digest = Sha256::digest(site.as_bytes());
    format!("jsm-sim-{}", hex::encode(&digest[..6]))
}

/// `POST /_sim/install`.
pub(crate) async fn install_route(state: web::Data<SimState>, body: web::Bytes) -> HttpResponse {
    let cmd = match serde_json::from_slice::<InstallCommand>(&body) {
        Ok(cmd) => cmd,
        Err(e) => {
            return HttpResponse::BadRequest()
                .json(json!({"error": format!("invalid install: {e}")}));
        }
    };
    match send(&state, &cmd).await {
        Ok(report) => HttpResponse::Ok().json(report),
        Err(e) => HttpResponse::BadGateway().json(json!({"error": e})),
    }
}

/// `GET /{kid}`: the install key's PEM; any other path is a JSM request like the rest.
pub(crate) async fn public_key_route(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<SimState>,
) -> HttpResponse {
    let kid = req.match_info().get("kid").unwrap_or_default();
    if kid.starts_with("jsm-sim-")
        && let Ok(key) = shared_key().await
    {
        return match kid == key.kid() {
            true => HttpResponse::Ok()
                .content_type("application/x-pem-file")
                .body(key.public_pem().to_string()),
            false => HttpResponse::NotFound().finish(),
        };
    }
    super::server::jsm_entry(req, body, state).await
}
