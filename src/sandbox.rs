//! `serve --sandbox`: an embedded JSM simulator, a tenant `sandbox` pointing at it and a source
//! `sandbox` whose secret is generated once and kept in the database, so a restart or
//! `token --source sandbox` from another shell keeps working.

use std::net::TcpListener;

use rand::distr::{Alphanumeric, SampleString};

use crate::config::{Config, Secret, SourceConfig, TenantAuth, TenantConfig};
use crate::sim::{SimConfig, SimServer};
use crate::store::Store;

/// The id of the sandbox tenant and source.
pub const SANDBOX: &str = "sandbox";
const SECRET_NAME: &str = "sandbox_source_secret";
const SANDBOX_EMAIL: &str = "sandbox-bot@example.com";

/// The sandbox source's HMAC secret, created on first use.
pub async fn sandbox_secret(store: &Store) -> Result<String, sqlx::Error> {
    store
        .local_secret(SECRET_NAME, || {
            Alphanumeric.sample_string(&mut rand::rng(), 48)
        })
        .await
}

/// Start the simulator and add the sandbox tenant and source to `config`.
pub async fn start(config: &mut Config, store: &Store) -> anyhow::Result<SimServer> {
    if config.tenant(SANDBOX).is_some() || config.source(SANDBOX).is_some() {
        return Err(crate::cli::UsageError(format!(
            "--sandbox adds a tenant and a source named {SANDBOX:?}; the config already has one"
        ))
        .into());
    }
    let api_token = Alphanumeric.sample_string(&mut rand::rng(), 32);
    let sim_config = SimConfig {
        basic: vec![(SANDBOX_EMAIL.to_string(), api_token.clone())],
        ..SimConfig::default()
    };
    let sim = SimServer::start(sim_config, TcpListener::bind("127.0.0.1:0")?).await?;
    config.tenants.push(TenantConfig {
        id: SANDBOX.into(),
        base_url: sim.base_url.clone(),
        auth: TenantAuth::Basic {
            email: SANDBOX_EMAIL.into(),
            api_token: Secret::new(api_token),
        },
        service_desk_ids: Vec::new(),
        organization_ids: Vec::new(),
        api_gateway_url: crate::config::gateway::DEFAULT_API_GATEWAY_URL.into(),
    });
    config.sources.push(SourceConfig::hmac(
        SANDBOX,
        SANDBOX,
        Secret::new(sandbox_secret(store).await?),
    ));
    Ok(sim)
}

/// The one ready-to-paste curl line (the only place besides `token` that shows a token).
pub fn curl_line(base_url: &str, token: &str) -> String {
    format!(
        "curl -sS -i -X POST {base_url}/webhooks/signup -H 'Authorization: Bearer {token}' \
         -H 'Content-Type: application/json' \
         -d '{{\"email\":\"fred@example.com\",\"displayName\":\"Fred F. User\"}}'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_generated_secret_is_long_enough_for_a_jwt_source() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = Store::open(&url).await.unwrap();
        let secret = sandbox_secret(&store).await.unwrap();
        let config: Config = toml::from_str(&format!(
            "[[tenants]]\nid = \"sandbox\"\nbase_url = \"http://127.0.0.1:1\"\n\
             auth = {{ type = \"bearer\", token = \"t\" }}\n\
             [[sources]]\nid = \"sandbox\"\ntenant = \"sandbox\"\nsecret = \"{secret}\"\n"
        ))
        .unwrap();
        assert_eq!(config.validate(), Ok(()));
        store.close().await;
    }
}
