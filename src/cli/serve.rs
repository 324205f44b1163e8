//! `serve` and `token`.

use std::time::Duration;

use super::{UsageError, open_store};
use crate::auth::mint_hs256;
use crate::config::Config;
use crate::sandbox::{SANDBOX, sandbox_secret};
use crate::startup::{Application, ServeOptions};

pub async fn serve(config: Config, sandbox: bool) -> anyhow::Result<()> {
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
        eprintln!();
    }
    if let Some(link) = app.sandbox_console_link() {
        if let Some(sim) = app.sandbox_sim() {
            eprintln!(
                "Embedded JSM simulator: {} (control API under /_sim/)",
                sim.base_url
            );
        }
        eprintln!("Operator console: {}/console/", app.base_url());
        eprintln!("One-time login link (signs you in once, valid 30 minutes):\n\n{link}\n");
    }
    app.run_until_stopped().await
}

pub async fn token(
    config: &Config,
    source_id: &str,
    ttl: Option<Duration>,
    jti: Option<String>,
) -> anyhow::Result<()> {
    let ttl = ttl.unwrap_or(config.auth.max_token_lifetime);
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
        None if source_id == SANDBOX => (sandbox_secret(&open_store(config).await?).await?, None),
        None => {
            return Err(UsageError(format!("no source {source_id:?} in the configuration")).into());
        }
    };
    let token = mint_hs256(&secret, source_id, ttl, jti.as_deref(), audience.as_deref())?;
    println!("{token}");
    Ok(())
}
