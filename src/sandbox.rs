//! `serve --sandbox`: an embedded JSM simulator, a tenant `sandbox` pointing at it and a source
//! `sandbox` whose secret is generated once and kept in the database, so a restart or
//! `token --source sandbox` from another shell keeps working.
//!
//! The simulator's API token is kept the same way, and its address is recorded at each start,
//! so `doctor --sandbox` from another shell checks the running sandbox tenant with the very
//! credentials `serve` uses ([`recorded_tenant`]).
//!
//! It also turns the operator console on with an admin token of its own (never printed) and
//! prints a one-time login link.

use std::net::TcpListener;

use rand::distr::{Alphanumeric, SampleString};

use crate::config::{AdminToken, Config, Secret, SourceConfig, TenantAuth, TenantConfig};
use crate::sim::{SimConfig, SimServer};
use crate::store::Store;

/// The id of the sandbox tenant and source.
pub const SANDBOX: &str = "sandbox";
const SECRET_NAME: &str = "sandbox_source_secret";
const SANDBOX_EMAIL: &str = "sandbox-bot@example.com";
const API_TOKEN_NAME: &str = "sandbox_jsm_api_token";
const BASE_URL_NAME: &str = "sandbox_jsm_base_url";

/// The sandbox source's HMAC secret, created on first use.
pub async fn sandbox_secret(store: &Store) -> Result<String, sqlx::Error> {
    store
        .local_secret(SECRET_NAME, || {
            Alphanumeric.sample_string(&mut rand::rng(), 48)
        })
        .await
}

/// The sandbox source's secret if `serve --sandbox` ever ran on this database (never created).
pub async fn existing_sandbox_secret(store: &Store) -> Result<Option<String>, sqlx::Error> {
    store.stored_local_secret(SECRET_NAME).await
}

/// Start the simulator and add the sandbox tenant and source to `config`.
pub async fn start(config: &mut Config, store: &Store) -> anyhow::Result<SimServer> {
    if config.tenant(SANDBOX).is_some() || config.source(SANDBOX).is_some() {
        return Err(crate::config::ConfigError(format!(
            "--sandbox adds a tenant and a source named {SANDBOX:?}; the config already has one"
        ))
        .into());
    }
    let api_token = store
        .local_secret(API_TOKEN_NAME, || {
            Alphanumeric.sample_string(&mut rand::rng(), 32)
        })
        .await?;
    let sim_config = SimConfig {
        basic: vec![(SANDBOX_EMAIL.to_string(), api_token.clone())],
        ..SimConfig::default()
    };
    let sim = SimServer::start(sim_config, TcpListener::bind("127.0.0.1:0")?).await?;
    store.put_local_secret(BASE_URL_NAME, &sim.base_url).await?;
    config.tenants.push(tenant(&sim.base_url, api_token));
    config.sources.push(SourceConfig::hmac(
        SANDBOX,
        SANDBOX,
        Secret::new(sandbox_secret(store).await?),
    ));
    config.console.enabled = true;
    if !config
        .console
        .admin_tokens
        .iter()
        .any(|t| t.label == SANDBOX)
    {
        config.console.admin_tokens.push(AdminToken {
            label: SANDBOX.into(),
            token: Secret::new(Alphanumeric.sample_string(&mut rand::rng(), 48)),
        });
    }
    Ok(sim)
}

fn tenant(base_url: &str, api_token: String) -> TenantConfig {
    TenantConfig {
        id: SANDBOX.into(),
        base_url: base_url.into(),
        auth: TenantAuth::Basic {
            email: SANDBOX_EMAIL.into(),
            api_token: Secret::new(api_token),
        },
        service_desk_ids: Vec::new(),
        organization_ids: Vec::new(),
        organization_rules: Vec::new(),
        welcome_request: None,
        api_gateway_url: crate::config::gateway::DEFAULT_API_GATEWAY_URL.into(),
    }
}

/// The sandbox tenant the last `serve --sandbox` on this database started (its simulator
/// address and API token), read without writing; `None` when no sandbox ever ran on it.
pub async fn recorded_tenant(store: &Store) -> Result<Option<TenantConfig>, sqlx::Error> {
    let base_url = store.stored_local_secret(BASE_URL_NAME).await?;
    let api_token = store.stored_local_secret(API_TOKEN_NAME).await?;
    Ok(base_url
        .zip(api_token)
        .map(|(url, token)| tenant(&url, token)))
}

/// A one-time console login link for the operator `sandbox`: its token is random, stored only
/// as a hash, spent by the first sign-in and void after `LINK_TTL` (a restart prints a new one).
pub async fn console_link(store: &Store, base_url: &str) -> Result<String, sqlx::Error> {
    let token = Alphanumeric.sample_string(&mut rand::rng(), 43);
    let expires = crate::domain::now_ms() + crate::console::LINK_TTL.as_millis() as i64;
    store
        .save_login_link(&crate::console::hashed(&token), SANDBOX, expires)
        .await?;
    Ok(format!("{base_url}/console/login/link?token={token}"))
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

    #[tokio::test]
    async fn a_config_that_already_names_the_sandbox_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = Store::open(&url).await.unwrap();
        let mut config: Config = toml::from_str(
            "[[tenants]]\nid = \"sandbox\"\nbase_url = \"http://127.0.0.1:1\"\n\
             auth = { type = \"bearer\", token = \"t\" }\n",
        )
        .unwrap();
        let Err(error) = start(&mut config, &store).await else {
            panic!("the sandbox started over a tenant of that name");
        };
        // Exit code 2, as any configuration error.
        assert!(error.downcast_ref::<crate::config::ConfigError>().is_some());
        assert!(
            error.to_string().contains("--sandbox adds a tenant"),
            "{error}"
        );
        store.close().await;
    }
}
