//! Test harness: the real server on port 0 with a throwaway SQLite file and the project's JSM
//! simulator, plus a driver for the real binary (restart and kill -9 tests).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use signup_bridge::auth::mint_hs256;
use signup_bridge::config::{Config, Secret, SourceConfig, TenantAuth, TenantConfig};
use signup_bridge::sim::{LoggedRequest, SimConfig, SimServer};
use signup_bridge::startup::{Application, ServeOptions};
use tempfile::TempDir;

pub const SOURCE: &str = "website";
pub const SECRET: &str = "website-secret-0123456789abcdef-0123";
pub const TENANT: &str = "acme";
pub const JSM_EMAIL: &str = "bot@acme.test";
pub const JSM_TOKEN: &str = "sim-api-token";
pub const CUSTOMER_PATH: &str = "/rest/servicedeskapi/customer";

/// A running bridge and its simulator.
pub struct TestApp {
    pub address: String,
    pub sim: SimServer,
    pub client: reqwest::Client,
    pub config: Config,
    pub dir: TempDir,
    /// The running app's store (its group-commit counter).
    pub store: signup_bridge::store::Store,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The simulator config every test starts from: accepts the tenant's basic credentials.
pub fn sim_config() -> SimConfig {
    SimConfig {
        basic: vec![(JSM_EMAIL.into(), JSM_TOKEN.into())],
        ..SimConfig::default()
    }
}

/// A config for one tenant at `jsm_base_url` and one HMAC source, with fast retries.
pub fn test_config(dir: &Path, jsm_base_url: &str) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = format!("sqlite://{}", dir.join("bridge.db").display());
    config.delivery.inline_wait = Duration::from_secs(3);
    config.delivery.request_timeout = Duration::from_secs(2);
    config.delivery.backoff_base = Duration::from_millis(100);
    config.delivery.backoff_max = Duration::from_millis(500);
    config.tenants.push(TenantConfig {
        id: TENANT.into(),
        base_url: jsm_base_url.into(),
        auth: TenantAuth::Basic {
            email: JSM_EMAIL.into(),
            api_token: Secret::new(JSM_TOKEN),
        },
        service_desk_ids: vec![],
        organization_ids: vec![],
    });
    config.sources.push(source(SOURCE, SECRET, TENANT));
    config
}

pub fn source(id: &str, secret: &str, tenant: &str) -> SourceConfig {
    SourceConfig::hmac(id, tenant, Secret::new(secret))
}

pub async fn start_sim(config: SimConfig) -> SimServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind sim");
    SimServer::start(config, listener).await.expect("start sim")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(sim_config(), |_| {}).await
}

/// Start a simulator with `sim`, then the bridge with the test config changed by `tweak`.
pub async fn spawn_app_with(sim: SimConfig, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let sim = start_sim(sim).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path(), &sim.base_url);
    config.database.url = super::backends::database_url(dir.path()).await;
    tweak(&mut config);
    spawn_bridge(sim, dir, config).await
}

pub async fn spawn_bridge(sim: SimServer, dir: TempDir, config: Config) -> TestApp {
    // What `serve` would refuse at load, no test may start with.
    config
        .validate()
        .expect("the test config passes validation");
    let app = Application::build(config.clone(), ServeOptions::default())
        .await
        .expect("build app");
    let address = app.base_url().to_string();
    let handle = app.handle();
    let store = app.store().clone();
    let task = tokio::spawn(app.run_until_stopped());
    TestApp {
        store,
        address,
        sim,
        client: http_client(),
        config,
        dir,
        handle,
        task,
    }
}

impl TestApp {
    /// A valid token of the test source.
    pub fn token(&self) -> String {
        token_for(SOURCE, SECRET)
    }

    pub async fn post_json(&self, body: &Value) -> reqwest::Response {
        self.post(&body.to_string(), "application/json", &[]).await
    }

    /// POST /webhooks/signup with the test token and extra headers.
    pub async fn post(
        &self,
        body: &str,
        content_type: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/webhooks/signup", self.address))
            .bearer_auth(self.token())
            .header("Content-Type", content_type)
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    pub async fn get_signup(&self, id: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/signups/{id}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Poll GET /signups/{id} until its status is not pending (or `within` passes).
    pub async fn wait_final(&self, id: &str, within: Duration) -> Value {
        poll_signup(&self.client, &self.address, id, &self.token(), within).await
    }

    /// Customer-create requests the simulator received.
    pub fn creates(&self) -> Vec<LoggedRequest> {
        jsm_requests(&self.sim, "POST", CUSTOMER_PATH)
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
        self.sim.stop().await;
    }
}

/// Requests the simulator logged with this method and exact path (context path excluded).
pub fn jsm_requests(sim: &SimServer, method: &str, path_suffix: &str) -> Vec<LoggedRequest> {
    sim.state()
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.path.ends_with(path_suffix))
        .collect()
}

/// An HTTP client for tests (installs the TLS crypto provider reqwest needs first).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub fn token_for(source: &str, secret: &str) -> String {
    mint_hs256(secret, source, Duration::from_secs(300), None, None).expect("mint")
}

pub fn signup_body(email: &str, name: &str) -> Value {
    serde_json::json!({"email": email, "displayName": name})
}

/// The compiled `signup-bridge` binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_signup-bridge"))
}

impl TestApp {
    /// How many signups the database holds.
    pub async fn stored_signups(&self) -> usize {
        let store = signup_bridge::store::Store::open(&self.config.database.url)
            .await
            .expect("open store");
        let n = store.list_signups(None, 10_000).await.expect("list").len();
        store.close().await;
        n
    }
}

/// A fault for `times` requests (None: forever) whose path contains `path`.
pub fn fault(
    times: Option<u32>,
    path: &str,
    action: signup_bridge::sim::FaultAction,
) -> signup_bridge::sim::Fault {
    signup_bridge::sim::Fault {
        times,
        path_contains: Some(path.into()),
        method: None,
        action,
    }
}

/// Answer `status` (with `Retry-After` when given), without effect.
pub fn status(status: u16, retry_after: Option<u64>) -> signup_bridge::sim::FaultAction {
    signup_bridge::sim::FaultAction::Status {
        status,
        retry_after,
        process_first: false,
    }
}

/// GET `{base}/signups/{id}` as `token` until the signup is not pending (or `within` passes).
pub async fn poll_signup(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    token: &str,
    within: Duration,
) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let body: Value = client
            .get(format!("{base}/signups/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        if body["status"] != "pending" || tokio::time::Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `id` of the signup in a response body.
pub async fn id_of(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("json");
    body["id"].as_str().expect("an id").to_string()
}
