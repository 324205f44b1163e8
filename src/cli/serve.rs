//! `serve` and `token`.

use std::time::Duration;

use super::UsageError;
use super::existing::open_existing_store;
use crate::auth::mint_hs256;
use crate::config::Config;
use crate::sandbox::{SANDBOX, existing_sandbox_secret};
use crate::startup::{Application, ServeOptions};

pub async fn serve(config: Config, sandbox: bool) -> anyhow::Result<()> {
    if config.sources.is_empty() && !sandbox {
        tracing::warn!(
            "no [[sources]] configured: every webhook will be refused (401 invalid_token); \
             add a source (README, Production configuration) or run `serve --sandbox`"
        );
    }
    let options = ServeOptions {
        sandbox,
        handle_signals: true,
    };
    let app = Application::build(config, options).await?;
    if let Some(curl) = app.sandbox_curl() {
        eprintln!(
            "\nSandbox ready. Paste this to create a customer in the embedded JSM simulator:\n"
        );
        eprintln!("{curl}");
        if let Some(sim) = app.sandbox_sim() {
            eprintln!(
                "\nThe embedded JSM simulator listens on {0} (`curl {0}/_sim/customers` lists \
                 the customers it holds; its control API is in docs/SIMULATOR.md).",
                sim.base_url
            );
        }
        eprintln!();
    }
    app.run_until_stopped().await
}

pub async fn token(
    config: &Config,
    source_id: &str,
    ttl: Option<Duration>,
    jti: Option<String>,
) -> anyhow::Result<()> {
    let max = config.auth.max_token_lifetime;
    let ttl = ttl.unwrap_or(max);
    if ttl > max {
        return Err(UsageError(format!(
            "--ttl {}: longer than auth.max_token_lifetime ({}), so `serve` would refuse the \
             token (401 invalid_token); use --ttl {} or less, or raise auth.max_token_lifetime",
            humantime::format_duration(ttl),
            humantime::format_duration(max),
            humantime::format_duration(max)
        ))
        .into());
    }
    let (secret, audience) = match config.source(source_id) {
        Some(source) if !source.verify.is_jwt() => {
            return Err(UsageError(format!(
                "source {source_id:?} verifies {}; use `signup-bridge sign`",
                source.verify.as_str()
            ))
            .into());
        }
        Some(source) => {
            let secret = source.hmac_secrets().next().ok_or_else(|| {
                UsageError(format!(
                    "source {source_id:?} has no HMAC secret; `token` signs with HMAC secrets only"
                ))
            })?;
            (secret.expose().to_string(), source.audience.clone())
        }
        None if source_id == SANDBOX => {
            let store = open_existing_store(config, "token --source sandbox").await?;
            let secret = existing_sandbox_secret(&store).await?.ok_or_else(|| {
                UsageError(format!(
                    "the database {} has no sandbox secret: `serve --sandbox` never ran on it; \
                     run `token` where the sandbox runs, or point at its database with \
                     SIGNUP_BRIDGE_DATABASE_URL",
                    crate::config::redact_database_url(&config.database.url)
                ))
            })?;
            store.close().await;
            (secret, None)
        }
        None => {
            return Err(UsageError(format!("no source {source_id:?} in the configuration")).into());
        }
    };
    let token = mint_hs256(&secret, source_id, ttl, jti.as_deref(), audience.as_deref())?;
    println!("{token}");
    Ok(())
}
