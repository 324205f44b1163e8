//! Drain benchmark (issue: delivery engine): how fast a backlog of pending signups reaches a
//! JSM that is rate limited by a token bucket and answers 429 with `Retry-After` beyond it.
//!
//! `cargo run --release --example drain -- [SIGNUPS] [RATE] [MAX_RATE_PER_TENANT...]`
//! defaults: 2000 signups, a 50 req/s bucket (burst 50, Retry-After: 1), runs without pacing
//! (0) and with `max_rate_per_tenant = 50`.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use signup_bridge::config::{Config, Secret, SourceConfig, TenantAuth, TenantConfig};
use signup_bridge::sim::{SimConfig, SimRateLimit, SimServer};
use signup_bridge::startup::{Application, ServeOptions};
use signup_bridge::store::{NewSignupRecord, Store};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let signups: usize = args.first().map_or(Ok(2000), |a| a.parse())?;
    let rate: f64 = args.get(1).map_or(Ok(50.0), |a| a.parse())?;
    let pacing: Vec<f64> = match args.get(2..) {
        Some(rest) if !rest.is_empty() => {
            rest.iter().map(|a| a.parse()).collect::<Result<_, _>>()?
        }
        _ => vec![0.0, rate],
    };
    println!(
        "signups={signups} bucket={rate}/s burst={} retry_after=1s",
        rate as u32
    );
    for max_rate in pacing {
        run(signups, rate, max_rate).await?;
    }
    Ok(())
}

async fn run(signups: usize, rate: f64, max_rate: f64) -> anyhow::Result<()> {
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
    let config = config(dir.path(), &sim.base_url, max_rate);
    let store = Store::open(&config.database.url).await?;
    for i in 0..signups {
        store.insert_signup(&record(i)).await?;
    }
    let started = Instant::now();
    let app = Application::build(config, ServeOptions::default()).await?;
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
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
    handle.stop(true).await;
    let _ = server.await;
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

fn config(dir: &std::path::Path, jsm: &str, max_rate: f64) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = format!("sqlite://{}", dir.join("bench.db").display());
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
    });
    config.sources.push(SourceConfig::hmac(
        "bench",
        "bench",
        Secret::new("bench-secret"),
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
        attempt_limit: 1000,
        not_before: None,
        jti: None,
    }
}
