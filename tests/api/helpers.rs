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
    /// The running app's intake and inline-wait bounds (what each holds now).
    pub admission: std::sync::Arc<signup_bridge::http::Admission>,
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
        organization_rules: Vec::new(),
        welcome_request: None,
        api_gateway_url: signup_bridge::config::gateway::DEFAULT_API_GATEWAY_URL.into(),
    });
    config.sources.push(source(SOURCE, SECRET, TENANT));
    config
}

pub fn source(id: &str, secret: &str, tenant: &str) -> SourceConfig {
    SourceConfig::hmac(id, tenant, Secret::new(secret))
}

/// The API gateway root (the simulator's origin) and the site's cloudId, for the simulator
/// whose JSM base URL is `base_url`: OAuth tenants call `{root}/ex/jira/{cloudId}`.
pub fn sim_gateway(base_url: &str) -> (String, String) {
    let url = reqwest::Url::parse(base_url).expect("simulator URL");
    let origin = url.origin().ascii_serialization();
    let cloud = signup_bridge::sim::cloud_id_of(&origin);
    (origin, cloud)
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
    let admission = app.admission().clone();
    let task = tokio::spawn(app.run_until_stopped());
    TestApp {
        store,
        admission,
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
        // One connection: tests poll this, and a PostgreSQL server shared by parallel tests
        // runs out of connections if every poll opens a full pool.
        let settings = signup_bridge::store::PoolSettings {
            max_connections: 1,
            ..Default::default()
        };
        let store =
            signup_bridge::store::Store::open_with(&self.config.database.url, None, settings)
                .await
                .expect("open store");
        let n = store
            .find_signups(&Default::default(), 10_000)
            .await
            .expect("list")
            .len();
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

/// A request received this soon after a 429 was answered may have left the bridge before the
/// 429 arrived; it is not a breach of the window.
pub const IN_FLIGHT_GRACE_MS: u64 = 250;

/// Requests received inside the `window_ms` of an earlier 429 (after the in-flight grace):
/// breaches, and those excused because a SIGKILL came between the sending of the 429's request
/// and theirs (a bridge killed before it had the answer or recorded the pause cannot have told
/// anyone, see docs/RELIABILITY.md).
pub fn retry_after_breaches(
    requests: &[LoggedRequest],
    window_ms: u64,
    kills_at_ms: &[u64],
) -> (usize, usize) {
    let (mut breaches, mut excused) = (0, 0);
    for limited in requests.iter().filter(|r| r.status == Some(429)) {
        let Some(answered) = limited.responded_at_ms else {
            continue;
        };
        for r in requests.iter().filter(|r| {
            r.received_at_ms > answered + IN_FLIGHT_GRACE_MS
                && r.received_at_ms < answered + window_ms
        }) {
            if kills_at_ms
                .iter()
                .any(|k| *k >= limited.received_at_ms && *k < r.received_at_ms)
            {
                excused += 1;
            } else {
                breaches += 1;
            }
        }
    }
    (breaches, excused)
}

/// The most requests the simulator held at once: for each arrival, the requests received no
/// later and not answered before it (an answer in the same millisecond goes first: its caller
/// had it before the next request could leave). A request never answered counts to the end.
pub fn max_in_flight(requests: &[LoggedRequest]) -> usize {
    requests
        .iter()
        .map(|r| {
            let at = r.received_at_ms;
            requests
                .iter()
                .filter(|s| s.received_at_ms <= at && s.responded_at_ms.is_none_or(|end| end > at))
                .count()
                .max(1)
        })
        .max()
        .unwrap_or(0)
}

/// A logged request for tests of the log arithmetic.
pub fn logged(received: u64, status: Option<u16>, responded: Option<u64>) -> LoggedRequest {
    LoggedRequest {
        seq: 0,
        received_at: std::time::UNIX_EPOCH,
        received_at_ms: received,
        method: "POST".into(),
        path: CUSTOMER_PATH.into(),
        query: String::new(),
        authorization: None,
        content_type: None,
        accept: None,
        x_experimentalapi: None,
        traceparent: None,
        body: String::new(),
        status,
        responded_at: None,
        responded_at_ms: responded,
        dropped: false,
    }
}

#[test]
fn a_request_inside_a_retry_after_window_is_a_breach() {
    let log = [
        logged(1_000, Some(429), Some(1_010)),
        logged(1_100, Some(201), Some(1_120)), // in flight when the 429 came
        logged(1_600, Some(201), Some(1_620)), // inside the window
        logged(2_100, Some(201), Some(2_120)), // after it
    ];
    assert_eq!(retry_after_breaches(&log, 1_000, &[]), (1, 0));
    assert_eq!(retry_after_breaches(&log, 1_000, &[1_050]), (0, 1));
}

#[test]
fn in_flight_is_the_largest_overlap_of_the_logged_intervals() {
    let log = [
        logged(1_000, Some(201), Some(1_100)),
        logged(1_050, Some(201), Some(1_150)),
        logged(1_100, Some(201), Some(1_120)), // starts as the first ends: two, not three
        logged(1_110, None, None),             // never answered: in flight to the end
    ];
    assert_eq!(max_in_flight(&log), 3);
    assert_eq!(max_in_flight(&log[..3]), 2);
    assert_eq!(max_in_flight(&[]), 0);
    // Answered within the millisecond it arrived: one at a time, never none.
    let instant = [
        logged(1_000, Some(201), Some(1_000)),
        logged(1_000, Some(201), Some(1_000)),
    ];
    assert_eq!(max_in_flight(&instant), 1);
}
