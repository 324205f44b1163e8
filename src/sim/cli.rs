//! `signup-bridge jsm-sim`: the simulator as a standalone process.

use super::SimServer;
use super::config::{SimConfig, SimConnect, SimRateLimit};
use super::faults::{Fault, FaultAction};
use anyhow::Context;
use std::time::Duration;

/// Flags of `signup-bridge jsm-sim`.
// No `Debug`: it holds the Connect secret and API tokens.
#[derive(clap::Args, Clone)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: String,
    /// Serve the JSM API under this path (e.g. /jira).
    #[arg(long, default_value = "")]
    pub context_path: String,
    /// Accepted Basic credentials, EMAIL:API_TOKEN (repeatable).
    #[arg(long = "basic", value_name = "EMAIL:TOKEN", value_parser = parse_basic)]
    pub basic: Vec<(String, String)>,
    /// Accepted Bearer token (repeatable).
    #[arg(long = "bearer", value_name = "TOKEN")]
    pub bearer: Vec<String>,
    /// OAuth client served by POST /_sim/oauth/token, CLIENT_ID:CLIENT_SECRET (repeatable).
    #[arg(long = "oauth-client", value_name = "ID:SECRET", value_parser = parse_client)]
    pub oauth_clients: Vec<(String, String)>,
    /// Life of an issued OAuth access token (humantime).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1h")]
    pub oauth_token_ttl: Duration,
    /// Connect app key accepted as JWT `iss` (needs --connect-secret).
    #[arg(long, requires = "connect_secret")]
    pub connect_app_key: Option<String>,
    /// Connect shared secret (HS256) (needs --connect-app-key).
    #[arg(long, requires = "connect_app_key")]
    pub connect_secret: Option<String>,
    /// User search omits emailAddress.
    #[arg(long)]
    pub hide_emails: bool,
    /// Latency added to every JSM response (humantime, e.g. 200ms).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    pub latency: Duration,
    /// Token-bucket rate limit, requests per second.
    #[arg(long, value_name = "RPS")]
    pub rate_limit: Option<f64>,
    /// Token-bucket size (defaults to the rate, at least 1).
    #[arg(long, value_name = "N", requires = "rate_limit")]
    pub rate_burst: Option<u32>,
    /// Retry-After seconds sent with a 429.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    pub retry_after: u64,
    /// Answer the first N JSM requests with --fail-status (no effect).
    #[arg(long, value_name = "N")]
    pub fail_first: Option<u32>,
    /// Status for --fail-first.
    #[arg(long, default_value_t = 500)]
    pub fail_status: u16,
    /// Only requests whose path contains this count for --fail-first / --drop-first.
    #[arg(long)]
    pub fail_path: Option<String>,
    /// Drop the connection of the first N JSM requests (no effect).
    #[arg(long, value_name = "N")]
    pub drop_first: Option<u32>,
    /// Once serving, install the bridge at this URL as a Connect app, as Jira would (signed
    /// install; the bridge's connect.install_keys_url must point at this simulator).
    #[arg(long, value_name = "BRIDGE_URL")]
    pub install_into: Option<String>,
    /// Once serving, send the bridge at this URL a Forge `installed` event with a system token,
    /// as the Forge platform would (the bridge's forge.jwks_url must point at this simulator).
    #[arg(long, value_name = "BRIDGE_URL", requires = "forge_app_id")]
    pub forge_install_into: Option<String>,
    /// The Forge app's ARI (the bridge's forge.app_id).
    #[arg(long, value_name = "ARI")]
    pub forge_app_id: Option<String>,
    /// Life of a system token the simulator issues as the Forge platform (humantime).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "4h")]
    pub forge_token_ttl: Duration,
    /// The SPEC §17 switches (see `cli_facts`).
    #[command(flatten)]
    pub facts: super::cli_facts::FactsArgs,
}

fn parse_basic(value: &str) -> Result<(String, String), String> {
    value
        .split_once(':')
        .filter(|(email, token)| !email.is_empty() && !token.is_empty())
        .map(|(email, token)| (email.to_owned(), token.to_owned()))
        .ok_or_else(|| "expected EMAIL:TOKEN".to_owned())
}

fn parse_client(value: &str) -> Result<(String, String), String> {
    parse_basic(value).map_err(|_| "expected CLIENT_ID:CLIENT_SECRET".to_owned())
}

impl SimArgs {
    /// The simulator configuration these flags describe.
    pub fn config(&self) -> SimConfig {
        let connect = match (&self.connect_app_key, &self.connect_secret) {
            (Some(app_key), Some(shared_secret)) => Some(SimConnect {
                app_key: app_key.clone(),
                shared_secret: shared_secret.clone(),
            }),
            _ => None,
        };
        let rate_limit = self.rate_limit.map(|rps| SimRateLimit {
            per_second: rps,
            burst: self
                .rate_burst
                .unwrap_or_else(|| rps.ceil().max(1.0) as u32),
            retry_after_secs: self.retry_after,
        });
        SimConfig {
            context_path: self.context_path.clone(),
            basic: self.basic.clone(),
            bearer_tokens: self.bearer.clone(),
            oauth_clients: self.oauth_clients.clone(),
            oauth_token_ttl: self.oauth_token_ttl,
            connect,
            hide_emails: self.hide_emails,
            latency: self.latency,
            rate_limit,
            forge_token_ttl: self.forge_token_ttl,
            facts: self.facts.facts(),
        }
    }

    /// The fault scripts these flags describe.
    pub fn faults(&self) -> Vec<Fault> {
        let mut faults = Vec::new();
        if let Some(n) = self.drop_first {
            faults.push(Fault {
                times: Some(n),
                path_contains: self.fail_path.clone(),
                method: None,
                action: FaultAction::Drop {
                    process_first: false,
                },
            });
        }
        if let Some(n) = self.fail_first {
            faults.push(Fault {
                times: Some(n),
                path_contains: self.fail_path.clone(),
                method: None,
                action: FaultAction::Status {
                    status: self.fail_status,
                    retry_after: None,
                    process_first: false,
                },
            });
        }
        faults
    }
}

/// Runs the simulator until ctrl-c.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(&args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let server = SimServer::start(args.config(), listener)
        .await
        .context("cannot start the JSM simulator")?;
    for fault in args.faults() {
        server.state().push_fault(fault);
    }
    tracing::info!(base_url = %server.base_url, "listening on http://{addr}");
    println!("listening on http://{addr}");
    if let Some(bridge_url) = &args.install_into {
        let cmd = super::InstallCommand {
            bridge_url: bridge_url.clone(),
            client_key: None,
            shared_secret: None,
            event: None,
        };
        match super::send_lifecycle(server.state(), &cmd).await {
            Ok(r) => println!(
                "installed into {bridge_url}: clientKey {} baseUrl {} (bridge answered {})",
                r.client_key, r.base_url, r.status
            ),
            Err(e) => tracing::warn!(error = %e, "install into {bridge_url} failed"),
        }
    }
    if let Some(bridge_url) = &args.forge_install_into {
        forge_install(&server, bridge_url, args.forge_app_id.clone()).await;
    }
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for ctrl-c")?;
    server.stop().await;
    Ok(())
}

/// `--forge-install-into`: the installed event, as Forge sends it after `forge install`.
async fn forge_install(server: &SimServer, bridge_url: &str, app_id: Option<String>) {
    let trigger = super::ForgeTrigger {
        bridge_url: bridge_url.to_string(),
        endpoint: "lifecycle".into(),
        app_id,
        retries: super::forge::MAX_RETRIES,
        ..Default::default()
    };
    match super::send_forge(server.state(), &trigger).await {
        Ok(r) => println!(
            "Forge app installed into {bridge_url}: installationId {} cloudId {} apiBaseUrl {} \
             (bridge answered {})",
            r.installation_id, r.cloud_id, r.api_base_url, r.status
        ),
        Err(e) => tracing::warn!(error = %e, "Forge install into {bridge_url} failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn flags_become_config_and_faults() {
        let cli = Cli::try_parse_from([
            "jsm-sim",
            "--context-path=/jira",
            "--basic=bot@acme.com:tok",
            "--bearer=b1",
            "--oauth-client=cid:csecret",
            "--oauth-token-ttl=2s",
            "--connect-app-key=app",
            "--connect-secret=s",
            "--latency=200ms",
            "--rate-limit=5",
            "--retry-after=3",
            "--fail-first=3",
            "--fail-status=503",
        ])
        .expect("valid flags");
        let config = cli.sim.config();
        assert_eq!(cli.sim.listen, "127.0.0.1:8081");
        assert_eq!(config.normalised_context_path(), "/jira");
        assert_eq!(config.basic, [("bot@acme.com".into(), "tok".into())]);
        assert_eq!(config.latency, Duration::from_millis(200));
        assert_eq!(config.oauth_clients, [("cid".into(), "csecret".into())]);
        assert_eq!(config.oauth_token_ttl, Duration::from_secs(2));
        assert_eq!(
            config.rate_limit,
            Some(SimRateLimit {
                per_second: 5.0,
                burst: 5,
                retry_after_secs: 3
            })
        );
        assert!(config.connect.is_some_and(|c| c.app_key == "app"));
        let faults = cli.sim.faults();
        assert_eq!(faults.len(), 1);
        assert_eq!(faults[0].times, Some(3));
        assert!(matches!(
            faults[0].action,
            FaultAction::Status { status: 503, .. }
        ));
        assert!(Cli::try_parse_from(["jsm-sim", "--basic=no-colon"]).is_err());
        assert!(Cli::try_parse_from(["jsm-sim", "--connect-app-key=app"]).is_err());
        assert_eq!(config.forge_token_ttl, Duration::from_secs(4 * 3600));
        let forge = Cli::try_parse_from([
            "jsm-sim",
            "--forge-install-into=http://127.0.0.1:8080",
            "--forge-app-id=ari:cloud:ecosystem::app/x",
            "--forge-token-ttl=90s",
        ])
        .expect("valid Forge flags");
        assert_eq!(forge.sim.config().forge_token_ttl, Duration::from_secs(90));
        assert!(
            Cli::try_parse_from(["jsm-sim", "--forge-install-into=http://x"]).is_err(),
            "the app id is required"
        );
        assert_eq!(
            config.facts,
            crate::sim::SimFacts::default(),
            "real JSM by default"
        );
    }
}
