//! The command line (README, "Command line"). Exit codes: 0 ok, 2 usage or configuration error, 1 runtime failure.

mod admin;
mod doctor;
mod erase;
mod existing;
mod healthcheck;
#[cfg(test)]
mod help_tests;
mod import;
mod import_rows;
mod import_wait;
mod serve;
mod sign;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::config;
use crate::sim::SimArgs;
use crate::telemetry::{self, LogTarget};

#[derive(Parser)]
#[command(
    name = "signup-bridge",
    version = crate::VERSION,
    about = "Signed signup webhooks become Jira Service Management customers, exactly once."
)]
pub struct Cli {
    /// Configuration file (TOML). Without one, every setting has its default.
    #[arg(long, global = true, env = "SIGNUP_BRIDGE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the service (migrations run at start).
    Serve {
        /// Listen address, overriding server.listen.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Also run an embedded JSM simulator with a `sandbox` tenant and source, and print a ready-to-paste curl command.
        #[arg(long)]
        sandbox: bool,
    },
    /// Print a signed JWT for an HMAC source (for trying a setup with curl).
    Token {
        /// The source whose secret signs the token (its id is the token's `iss`); `sandbox`
        /// reads the secret `serve --sandbox` keeps in the database.
        #[arg(long, value_name = "ID")]
        source: String,
        /// Lifetime (e.g. 5m); defaults to auth.max_token_lifetime, and may not exceed it
        /// (`serve` would refuse the token).
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Option<Duration>,
        /// A jti claim (it becomes the idempotency key when no Idempotency-Key header is sent).
        #[arg(long)]
        jti: Option<String>,
    },
    /// Print the headers a sender of the source's scheme would add to a body (current time), or
    /// with --curl a ready-to-paste curl line (for trying a source before wiring the tool).
    Sign {
        /// The `[[sources]]` id whose scheme and secret sign the body.
        #[arg(long, value_name = "ID")]
        source: String,
        /// The exact body to sign.
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// Print one curl line calling this URL (e.g. http://127.0.0.1:8080/webhooks/signup/ID).
        #[arg(long, value_name = "URL")]
        curl: Option<String>,
        /// A fixed delivery id, to repeat a delivery as a sender's retry does: the `webhook-id`
        /// of a standard-webhooks source, an `Idempotency-Key` header for any other.
        #[arg(long, value_name = "ID")]
        id: Option<String>,
        /// Sign as of this Unix time in seconds (standard-webhooks, stripe, webflow,
        /// hubspot-v3); the bridge accepts it within the source's `tolerance` of now.
        #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
        timestamp: Option<i64>,
    },
    /// Validate the configuration and print it as TOML, every secret redacted.
    CheckConfig,
    /// Read-only checks of every tenant and installation against JSM (base URL, reachability,
    /// credentials, permissions, desks, organizations, clock, rate limit); creates nothing.
    Doctor {
        /// Only this tenant (a `[[tenants]]` id, a Connect clientKey or a Forge installationId).
        #[arg(long, value_name = "ID")]
        tenant: Option<String>,
        /// One JSON object per check and line (tenant, check, status, detail, fix).
        #[arg(long)]
        json: bool,
        /// Also check the `sandbox` tenant of the `serve --sandbox` running on this database.
        #[arg(long)]
        sandbox: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Store the rows of a CSV (header row) or JSON lines file as signups of a source, keyed
    /// by `import:` + SHA-256 of the lowercased email (a second run stores nothing new); a
    /// running `serve` delivers them.
    Import(Box<import::ImportArgs>),
    /// Inspect and re-queue signups (safe while `serve` runs).
    Signups {
        #[command(subcommand)]
        command: admin::SignupsCommand,
    },
    /// Connect and Forge installations.
    Installations {
        #[command(subcommand)]
        command: admin::InstallationsCommand,
    },
    /// Run the standalone JSM simulator.
    JsmSim(Box<SimArgs>),
    /// Print the Forge app manifest with server.public_url as the remote's baseUrl.
    ForgeManifest,
    /// Ask a running `serve` whether it is ready: exit 0 when its /readyz answers 2xx, 1
    /// otherwise (for container health checks in images without curl).
    Healthcheck {
        /// The URL to ask; default /readyz on the configured listen address
        /// (SIGNUP_BRIDGE_LISTEN included), wildcard addresses asked on loopback.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
}

/// Exit code 2: the user's input or configuration is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Run the command; errors become a message on stderr and its exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let target = match cli.command {
        Command::Serve { .. } | Command::JsmSim(_) => LogTarget::Stdout,
        _ => LogTarget::Stderr,
    };
    // `serve` starts its logs once its config is read: they may carry the trace exporter.
    if !matches!(cli.command, Command::Serve { .. }) {
        telemetry::init(target, default_filter(target));
    }
    match dispatch(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some()
                || e.downcast_ref::<config::ConfigError>().is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn default_filter(target: LogTarget) -> &'static str {
    match target {
        LogTarget::Stdout => "info,actix_server=warn",
        LogTarget::Stderr => "warn",
    }
}

/// `serve`'s logs, with the trace exporter when an OTLP endpoint is configured; the returned
/// handle flushes the traces when dropped.
fn serve_logs_and_traces(config: &config::Config) -> anyhow::Result<Option<crate::traces::Traces>> {
    let env = |name: &str| std::env::var(name).ok();
    let Some(endpoint) = config.telemetry.endpoint(&env) else {
        telemetry::init(LogTarget::Stdout, default_filter(LogTarget::Stdout));
        return Ok(None);
    };
    let (layer, traces) = crate::traces::exporter_layer(&endpoint, &config.telemetry.service_name)?;
    telemetry::init_with(
        LogTarget::Stdout,
        default_filter(LogTarget::Stdout),
        Some(layer),
    );
    tracing::info!(
        endpoint = %config::redact_url(&endpoint),
        "exporting traces over OTLP/HTTP"
    );
    Ok(Some(traces))
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let path = cli.config.as_deref();
    match cli.command {
        Command::JsmSim(args) => crate::sim::run(*args).await,
        Command::Serve { listen, sandbox } => {
            let mut config = crate::startup::load_config(path)?;
            if let Some(listen) = listen {
                config.server.listen = listen;
                config
                    .validate()
                    .map_err(|e| UsageError(format!("--listen: {e}")))?;
            }
            let traces = serve_logs_and_traces(&config)?;
            let served = serve::serve(config, sandbox).await;
            drop(traces);
            served
        }
        Command::Token { source, ttl, jti } => {
            serve::token(&config::load(path)?, &source, ttl, jti).await
        }
        Command::Sign {
            source,
            body,
            curl,
            id,
            timestamp,
        } => {
            let fixed = sign::Fixed { id, timestamp };
            sign::sign(
                &config::load(path)?,
                &source,
                &body,
                curl.as_deref(),
                &fixed,
            )
        }
        Command::CheckConfig => {
            let config = crate::startup::load_config(path)?;
            print!("{}", config.to_redacted_toml());
            Ok(())
        }
        Command::Doctor {
            tenant,
            json,
            sandbox,
        } => doctor::doctor(config::load(path)?, tenant, json, sandbox).await,
        Command::Migrate => {
            let config = config::load(path)?;
            open_store(&config).await?;
            eprintln!(
                "migrations applied to {}",
                config::redact_database_url(&config.database.url)
            );
            Ok(())
        }
        Command::Import(args) => import::import(&config::load(path)?, *args).await,
        Command::Signups { command } => admin::signups(&config::load(path)?, command).await,
        Command::Installations { command } => {
            admin::installations(&config::load(path)?, command).await
        }
        Command::Healthcheck { url } => {
            // A probe knows ready or not: every failure, a config error included, is exit 1.
            let url = match url {
                Some(url) => url,
                None => healthcheck::default_url(
                    &config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?,
                ),
            };
            healthcheck::run(&url).await
        }
        Command::ForgeManifest => {
            let config = config::load(path)?;
            let public_url = config.server.public_url.as_deref().ok_or_else(|| {
                UsageError(
                    "key `server.public_url`: forge-manifest needs it (Forge calls the bridge there)"
                        .into(),
                )
            })?;
            if !public_url.starts_with("https://") {
                eprintln!("warning: Forge calls a remote over https only; {public_url} is not");
            }
            // Only a source's own welcome_request reaches an installation's signups.
            let welcome = config
                .sources
                .iter()
                .any(|s| s.welcome_request.is_some() && config.tenant(&s.tenant).is_none());
            print!(
                "{}",
                crate::forge::manifest::render(public_url, &config.forge.app_id, welcome)
            );
            Ok(())
        }
    }
}

pub(crate) use crate::startup::open_store;
