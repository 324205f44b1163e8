//! Building and running the service: store, sandbox, worker, purge and HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

use crate::auth::{RateLimits, TokenVerifier, mint_hs256};
use crate::config::{self, Config, ConfigError};
use crate::connect::{ConnectState, InstallKeys, descriptor};
use crate::console::ConsoleState;
use crate::delivery::{Engine, TenantDirectory, run_purge};
use crate::http::middleware::request_context;
use crate::http::{Admission, AppState, FinishedSignups, InProgress, not_found, routes};
use crate::jsm::JsmClient;
use crate::sandbox;
use crate::sim::SimServer;
use crate::store::Store;

/// `config::load`, then the checks that need a parser above `config/` (a source's public-key
/// PEM): `serve` and `check-config` both load through here, so both refuse the same files.
pub fn load_config(path: Option<&std::path::Path>) -> Result<Config, ConfigError> {
    let loaded = config::load(path)?;
    crate::auth::check_public_keys(&loaded).map_err(|e| config::error_at(path, &e))?;
    Ok(loaded)
}

/// Open the configured database (running migrations).
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let key = crate::store::SecretBox::of_config(&config.database).map_err(ConfigError)?;
    let settings = config.database.pool_settings();
    Store::open_with(&config.database.url, key, settings)
        .await
        .map_err(|e| {
            let url = config::redact_database_url(&config.database.url);
            anyhow::anyhow!("cannot open the database {url}: {e}")
        })
}

/// How to start.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Start the embedded simulator with a `sandbox` tenant and source.
    pub sandbox: bool,
    /// Let actix stop the server on SIGTERM/SIGINT (the binary); tests stop it by handle.
    pub handle_signals: bool,
}

/// A built, listening service.
pub struct Application {
    port: u16,
    base_url: String,
    server: Server,
    engine: Arc<Engine>,
    store: Store,
    admission: Arc<Admission>,
    shutdown: watch::Sender<bool>,
    background: Vec<JoinHandle<()>>,
    sim: Option<SimServer>,
    curl: Option<String>,
    console_link: Option<String>,
}

impl Application {
    /// Open the store (running migrations), bind `server.listen` (port 0 picks a free port)
    /// and start the worker, the purge and the HTTP server.
    pub async fn build(mut config: Config, options: ServeOptions) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        for warning in config.warnings() {
            tracing::warn!("{warning}");
        }
        let store = open_store(&config).await?;
        let sim = match options.sandbox {
            true => Some(sandbox::start(&mut config, &store).await?),
            false => None,
        };
        // Before anything starts: a source key that cannot be loaded is a config error (exit 2).
        let verifier = TokenVerifier::from_config(&config)?;
        verifier.prefetch_jwks();
        let listener = TcpListener::bind(&config.server.listen).with_context(|| {
            format!(
                "cannot listen on {} (another address: --listen ADDR, server.listen or \
                     SIGNUP_BRIDGE_LISTEN)",
                config.server.listen
            )
        })?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let public_url = config
            .server
            .public_url
            .clone()
            .unwrap_or_else(|| base_url.clone());
        let public_base_path = url::Url::parse(&public_url)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();

        let directory = Arc::new(
            TenantDirectory::from_config(&config, store.clone()).map_err(anyhow::Error::msg)?,
        );
        let connect = Arc::new(connect_state(&config, &public_url)?);
        let forge = crate::forge::FitVerifier::from_config(&config)?.map(Arc::new);
        if let Some(forge) = &forge {
            forge.prefetch();
        }
        let jsm = JsmClient::new(config.delivery.request_timeout)?;
        let engine = Engine::new(
            store.clone(),
            jsm,
            Arc::clone(&directory),
            config.delivery.clone(),
        );
        let (shutdown, shutdown_rx) = watch::channel(false);
        // Listening before the first request is served: an outcome another instance announces
        // for it is not missed.
        let notices = store.listen().await;
        let background = vec![
            tokio::spawn(Arc::clone(&engine).hear_other_instances(notices, shutdown_rx.clone())),
            tokio::spawn(Arc::clone(&engine).run_worker(shutdown_rx.clone())),
            tokio::spawn(run_purge(
                store.clone(),
                config.idempotency.clone(),
                config.console.clone(),
                shutdown_rx,
            )),
        ];

        let curl = match options.sandbox {
            true => {
                let secret = sandbox::sandbox_secret(&store).await?;
                let token = mint_hs256(
                    &secret,
                    sandbox::SANDBOX,
                    config.auth.max_token_lifetime,
                    None,
                    None,
                )?;
                Some(sandbox::curl_line(&base_url, &token))
            }
            false => None,
        };
        let console_link = match options.sandbox {
            true => Some(sandbox::console_link(&store, &base_url).await?),
            false => None,
        };
        let config = Arc::new(config);
        let console = config.console.enabled.then(|| {
            web::Data::new(ConsoleState::new(
                Arc::clone(&config),
                store.clone(),
                Arc::clone(&engine),
            ))
        });
        let admission = Arc::new(Admission::new(
            config.server.max_intake_in_flight as usize,
            config.delivery.max_inline_waiters as usize,
        ));
        let state = web::Data::new(AppState {
            verifier,
            rate_limits: RateLimits::from_config(&config),
            failures: crate::auth::FailureLimits::default(),
            config: Arc::clone(&config),
            store: store.clone(),
            directory,
            engine: Arc::clone(&engine),
            in_progress: InProgress::default(),
            finished: FinishedSignups::new(config.idempotency.retention),
            admission: Arc::clone(&admission),
            metrics: crate::metrics::install(),
            public_base_path,
            connect,
            forge,
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(request_context))
                .app_data(state.clone())
                .configure(routes)
                .configure(crate::console::routes(console.clone()))
                .default_service(web::to(not_found))
        })
        .client_request_timeout(config.server.client_request_timeout)
        .shutdown_timeout((config.delivery.inline_wait + Duration::from_secs(1)).as_secs())
        .listen(listener)?;
        if !options.handle_signals {
            server = server.disable_signals();
        }
        let server = server.run();
        info!("listening on {base_url}");
        if config.console.enabled {
            info!(
                "operator console on {}/console/",
                public_url.trim_end_matches('/')
            );
        }
        Ok(Self {
            port: addr.port(),
            base_url,
            server,
            engine,
            store,
            admission,
            shutdown,
            background,
            sim,
            curl,
            console_link,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://ADDR` of the bound listener.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The sandbox's ready-to-paste curl command.
    pub fn sandbox_curl(&self) -> Option<&str> {
        self.curl.as_deref()
    }

    /// The sandbox's one-time console login link.
    pub fn sandbox_console_link(&self) -> Option<&str> {
        self.console_link.as_deref()
    }

    /// The embedded simulator of `--sandbox`.
    pub fn sandbox_sim(&self) -> Option<&SimServer> {
        self.sim.as_ref()
    }

    /// The store the service writes through.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The bounds on intake in flight and inline waiters, and what each holds now.
    pub fn admission(&self) -> &Arc<Admission> {
        &self.admission
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serve until the HTTP server stops (signal or handle), then stop the worker (letting
    /// in-flight calls finish within a bound) and the purge.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await?;
        info!("HTTP server stopped; stopping the worker");
        let _ = self.shutdown.send(true);
        self.engine.wake();
        for task in self.background {
            let _ = task.await;
        }
        if let Some(sim) = self.sim {
            sim.stop().await;
        }
        self.store.close().await;
        info!("stopped");
        Ok(())
    }
}

/// The descriptor and install-key cache of the Connect routes.
fn connect_state(config: &Config, public_url: &str) -> anyhow::Result<ConnectState> {
    let public_url = public_url.trim_end_matches('/').to_string();
    let descriptor = descriptor::render(
        &config.connect.app_key,
        &config.connect.app_name,
        &public_url,
    )
    .map_err(anyhow::Error::msg)?;
    let install_keys = InstallKeys::new(
        &config.connect.install_keys_url,
        config.auth.jwks_cache_ttl,
        config.auth.jwks_refresh_cooldown,
    )
    .map_err(anyhow::Error::msg)?;
    Ok(ConnectState {
        public_url,
        descriptor,
        install_keys,
        leeway: config.auth.leeway,
    })
}
