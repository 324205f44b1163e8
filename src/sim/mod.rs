//! The JSM simulator: a stand-in for Jira Service Management Cloud, as strict as JSM for
//! what the bridge uses (customer create, user search, service desk and organization
//! membership, Basic/Bearer/Connect JWT auth, an OAuth client-credentials token endpoint, the
//! Forge platform with its API gateway path `/ex/jira/{cloudId}`), with latency, fault scripts, a token-bucket
//! rate limit and a control API (`/_sim/`) that exposes its customers and request log.

mod accounts;
mod auth;
mod bucket;
mod cli;
mod cli_facts;
mod config;
mod control;
mod desks;
mod facts;
mod faults;
mod forge;
mod forge_control;
mod forge_jsm;
mod forge_state;
mod identity;
mod installer;
mod installer_key;
mod issues;
mod oauth;
mod reply;
mod routes;
mod search;
mod server;
mod state;
#[cfg(test)]
mod tests;
mod users;

pub use cli::{SimArgs, run};
pub use config::{SimConfig, SimConnect, SimRateLimit};
pub use facts::{SimFacts, SimLanguage, SimPermissions};
pub use faults::{Fault, FaultAction};
pub use forge::{
    ForgeTrigger, ForgeTriggerReport, fit_claims, forge_jwks, forge_kid, mint_fit,
    send as send_forge,
};
pub use forge_state::ForgeRateLimit;
pub use installer::{InstallCommand, InstallReport, send as send_lifecycle};
pub use installer_key::InstallerKey;
pub use state::{LoggedRequest, SimCustomer, SimIssue, SimState};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

/// The cloudId of the simulator site reached at `control_url` (`http://127.0.0.1:PORT`): what
/// its `/_edge/tenant_info` answers and the Forge platform names it by.
pub fn cloud_id_of(control_url: &str) -> String {
    forge::stable_uuid(control_url.trim_end_matches('/'))
}

/// A running simulator.
pub struct SimServer {
    /// `http://127.0.0.1:PORT` + context path, no trailing slash: the JSM base URL.
    pub base_url: String,
    /// `http://127.0.0.1:PORT`: where `/_sim/` lives.
    pub control_url: String,
    state: SimState,
    handle: ServerHandle,
    task: JoinHandle<std::io::Result<()>>,
}

impl SimServer {
    /// Start on an already-bound listener (tests bind 127.0.0.1:0). Spawns the actix server on the current tokio runtime and returns once it accepts connections.
    pub async fn start(config: SimConfig, listener: TcpListener) -> std::io::Result<SimServer> {
        let mut addr = listener.local_addr()?;
        if addr.ip().is_unspecified() {
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        let control_url = format!("http://{addr}");
        let base_url = format!("{control_url}{}", config.normalised_context_path());
        let state = SimState::new(config);
        // The Forge platform names this site by the same cloudId (see `forge`).
        state.set_base_url(base_url.clone(), cloud_id_of(&control_url));
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(app_state.clone()))
                .configure(control::routes)
                .service(web::resource("/ex/jira/{cloud_id}/{tail:.*}").to(forge_jsm::entry))
                .route("/_edge/tenant_info", web::get().to(control::tenant_info))
                .service(
                    web::resource("/{kid}")
                        .route(web::get().to(installer::public_key_route))
                        .default_service(web::to(server::jsm_entry)),
                )
                .default_service(web::to(server::jsm_entry))
        })
        .listen(listener)?
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .run();
        let handle = server.handle();
        let task = tokio::spawn(server);
        wait_until_serving(addr).await?;
        Ok(SimServer {
            base_url,
            control_url,
            state,
            handle,
            task,
        })
    }

    /// The site's cloudId (what `GET /_edge/tenant_info` answers).
    pub fn cloud_id(&self) -> String {
        self.state.cloud_id()
    }

    /// `http://127.0.0.1:PORT/ex/jira/{cloudId}`: the API gateway base URL of this site, where
    /// OAuth 2.0 tokens are accepted.
    pub fn gateway_url(&self) -> String {
        format!("{}/ex/jira/{}", self.control_url, self.cloud_id())
    }

    /// In-process access for tests (customers, request log, faults).
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Stops the server, letting in-flight requests finish for up to a second.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        if let Err(err) = self.task.await {
            tracing::warn!(error = %err, "jsm-sim: server task ended abnormally");
        }
    }
}

/// Polls `/_sim/health` until the worker answers (the listener queues connections before
/// the worker runs, so a bare connect proves nothing).
async fn wait_until_serving(addr: SocketAddr) -> std::io::Result<()> {
    let mut last_error = None;
    for _ in 0..100 {
        match probe(addr).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(err) => last_error = Some(err),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("jsm-sim did not start serving")))
}

async fn probe(addr: SocketAddr) -> std::io::Result<bool> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /_sim/health HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n")
        .await?;
    let mut head = [0u8; 12];
    let read = tokio::time::timeout(Duration::from_millis(500), stream.read_exact(&mut head)).await;
    Ok(matches!(read, Ok(Ok(_))) && head.starts_with(b"HTTP/1.1 200"))
}
