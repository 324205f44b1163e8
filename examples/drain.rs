//! Drain benchmark (issue: delivery engine): how fast a backlog of pending signups reaches a
//! JSM that is rate limited by a token bucket and answers 429 with `Retry-After` beyond it.
//!
//! `cargo run --release --example drain -- [SIGNUPS] [RATE] [MAX_RATE_PER_TENANT...]`
//! defaults: 2000 signups, a 50 req/s bucket (burst 50, Retry-After: 1), runs without pacing
//! (0) and with `max_rate_per_tenant = 50`. The backlog is in a fresh SQLite file.
//!
//! `... -- --instances N [--database-url URL] [SIGNUPS] [RATE] [MAX_RATE_PER_TENANT...]`:
//! the same backlog in a fresh schema on PostgreSQL (`--database-url`, else
//! `SIGNUP_BRIDGE_TEST_POSTGRES_URL`), drained by N bridges in this process sharing it: the
//! pause, the pacing and the concurrency limit then hold across the N through the database.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use signup_bridge::config::{Config, Secret, SourceConfig, TenantAuth, TenantConfig};
use signup_bridge::sim::{SimConfig, SimRateLimit, SimServer};
use signup_bridge::startup::{Application, ServeOptions};
use signup_bridge::store::{NewSignupRecord, Store};

/// Where the backlog lives and how many bridges drain it.
enum Backend {
    Sqlite,
    Postgres { url: String, instances: usize },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (backend, args) = backend(std::env::args().skip(1).collect())?;
    let signups: usize = args.first().map_or(Ok(2000), |a| a.parse())?;
    let rate: f64 = args.get(1).map_or(Ok(50.0), |a| a.parse())?;
    let pacing: Vec<f64> = match args.get(2..) {
        Some(rest) if !rest.is_empty() => {
            rest.iter().map(|a| a.parse()).collect::<Result<_, _>>()?
        }
        _ => vec![0.0, rate],
    };
    let on = match &backend {
        Backend::Sqlite => String::new(),
        Backend::Postgres { instances, .. } => format!(" on PostgreSQL, instances={instances}"),
    };
    println!(
        "signups={signups} bucket={rate}/s burst={} retry_after=1s{on}",
        rate as u32
    );
    for max_rate in pacing {
        run(signups, rate, max_rate, &backend).await?;
    }
    Ok(())
}

/// Takes `--instances N` and `--database-url URL` out of the arguments.
fn backend(args: Vec<String>) -> anyhow::Result<(Backend, Vec<String>)> {
    let (mut instances, mut url, mut rest) = (None, None, Vec::new());
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--instances" => instances = Some(args.next().unwrap_or_default().parse::<usize>()?),
            "--database-url" => url = args.next(),
            _ => rest.push(arg),
        }
    }
    let backend = match (instances, url) {
        (None, None) => Backend::Sqlite,
        (instances, url) => Backend::Postgres {
            instances: instances.unwrap_or(1).max(1),
            url: match url {
                Some(url) => url,
                None => std::env::var("SIGNUP_BRIDGE_TEST_POSTGRES_URL").map_err(|_| {
                    anyhow::anyhow!(
                        "--instances needs --database-url or SIGNUP_BRIDGE_TEST_POSTGRES_URL"
                    )
                })?,
            },
        },
    };
    Ok((backend, rest))
}

async fn run(signups: usize, rate: f64, max_rate: f64, backend: &Backend) -> anyhow::Result<()> {
    let sim = SimServer::start(
        SimConfig {
            basic: vec![("bench@example.com".into(), "token".into())],
            rate_limit: Some(SimRateLimit {
                per_second: rate,
                burst: rate as u32,
                retry_after_secs: 1,
            }),
            ..SimConfig::default()
        },
        TcpListener::bind("127.0.0.1:0")?,
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let (database_url, instances, schema) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("bench.db").display()),
            1,
            None,
        ),
        Backend::Postgres { url, instances } => {
            let schema = Schema::create(url).await?;
            (schema.url.clone(), *instances, Some(schema))
        }
    };
    let config = config(&database_url, &sim.base_url, max_rate);
    let drained = drain(&config, &sim, signups, instances).await;
    if let Some(schema) = schema {
        schema.drop().await?;
    }
    let took = drained?;
    let log = sim.state().requests();
    let limited = log.iter().filter(|r| r.status == Some(429)).count();
    let windows: Vec<(u64, u64)> = log
        .iter()
        .filter(|r| r.status == Some(429))
        .filter_map(|r| r.responded_at_ms.map(|at| (at + 20, at + 1000)))
        .collect();
    let inside = log
        .iter()
        .filter(|r| {
            windows
                .iter()
                .any(|(a, b)| r.received_at_ms > *a && r.received_at_ms < *b)
        })
        .count();
    let achieved = signups as f64 / took;
    println!(
        "max_rate_per_tenant={max_rate}: {signups} created in {took:.1}s = {achieved:.1}/s \
         ({:.0}% of {rate}/s); requests {}, 429s {limited}, sent inside a Retry-After window {inside}",
        100.0 * achieved / rate,
        log.len()
    );
    sim.stop().await;
    Ok(())
}

/// Insert the backlog, start `instances` bridges on it; the seconds until JSM has every
/// customer.
async fn drain(
    config: &Config,
    sim: &SimServer,
    signups: usize,
    instances: usize,
) -> anyhow::Result<f64> {
    let store = Store::open(&config.database.url).await?;
    for i in 0..signups {
        store.insert_signup(&record(i)).await?;
    }
    let started = Instant::now();
    let mut running = Vec::new();
    for _ in 0..instances {
        let app = Application::build(config.clone(), ServeOptions::default()).await?;
        running.push((app.handle(), tokio::spawn(app.run_until_stopped())));
    }
    while sim.state().customers().len() < signups {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if started.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("did not drain within 10 minutes");
        }
    }
    let took = started.elapsed().as_secs_f64();
    while store.pending_count().await? > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (handle, server) in running {
        handle.stop(true).await;
        let _ = server.await;
    }
    store.close().await;
    Ok(took)
}

/// A fresh schema on a PostgreSQL server, for one run.
struct Schema {
    admin: sqlx::PgPool,
    name: String,
    /// The server URL with the schema as search path (sqlx's `options[...]` form).
    url: String,
}

impl Schema {
    async fn create(server: &str) -> anyhow::Result<Schema> {
        let admin = sqlx::PgPool::connect(server).await?;
        // A name of our own making: safe to splice into the statement.
        let name = format!("drain_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await?;
        let separator = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{separator}options[search_path]={name}");
        Ok(Schema { admin, name, url })
    }

    async fn drop(self) -> anyhow::Result<()> {
        let drop = format!("DROP SCHEMA {} CASCADE", self.name);
        sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&self.admin)
            .await?;
        self.admin.close().await;
        Ok(())
    }
}

fn config(database_url: &str, jsm: &str, max_rate: f64) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = database_url.into();
    config.delivery.max_rate_per_tenant = max_rate;
    config.delivery.max_attempts = 1000;
    config.tenants.push(TenantConfig {
        id: "bench".into(),
        base_url: jsm.into(),
        auth: TenantAuth::Basic {
            email: "bench@example.com".into(),
            api_token: Secret::new("token"),
        },
        service_desk_ids: vec![],
        organization_ids: vec![],
        organization_rules: vec![],
        welcome_request: None,
        api_gateway_url: signup_bridge::config::gateway::DEFAULT_API_GATEWAY_URL.into(),
    });
    config.sources.push(SourceConfig::hmac(
        "bench",
        "bench",
        Secret::new("bench-secret-0123456789abcdef-0123456789"),
    ));
    config
}

fn record(i: usize) -> NewSignupRecord {
    NewSignupRecord {
        id: uuid::Uuid::now_v7().to_string(),
        source_id: "bench".into(),
        idempotency_key: format!("bench-{i}"),
        fingerprint: format!("{i:064}"),
        tenant: "bench".into(),
        email: format!("bench{i}@example.com"),
        display_name: format!("Bench {i}"),
        steps: vec!["create".into()],
        trace_parent: None,
        attempt_limit: 1000,
        not_before: None,
        jti: None,
    }
}
