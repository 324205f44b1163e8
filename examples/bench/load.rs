//! The load generator: closed loop over N connections, or open loop at a fixed rate, against
//! one bridge or several instances of one (round robin per request, as a load balancer would).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// What one run collects.
#[derive(Default)]
struct Tally {
    /// Latencies in microseconds.
    latencies: Vec<u64>,
    non_2xx: u64,
    errors: u64,
    codes: std::collections::BTreeMap<u16, u64>,
}

struct Target {
    client: reqwest::Client,
    /// The signup URL of each instance; request `n` goes to `urls[n % len]`.
    urls: Vec<String>,
    token: String,
    replay: bool,
    run_id: u128,
    counter: AtomicU64,
}

impl Target {
    /// One request: a new signup, or the same one again (replay).
    async fn send(&self) -> Result<u16, reqwest::Error> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let url = &self.urls[n as usize % self.urls.len()];
        let (key, body) = if self.replay {
            let body = r#"{"email":"replay@bench.example.com","displayName":"Replay Bench"}"#;
            ("bench-replay-1".to_string(), body.to_string())
        } else {
            let id = format!("{}-{n}", self.run_id);
            let body =
                format!(r#"{{"email":"u{id}@bench.example.com","displayName":"Bench User {n}"}}"#);
            (format!("k-{id}"), body)
        };
        let answer = self
            .client
            .post(url)
            .bearer_auth(&self.token)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .body(body)
            .send()
            .await?;
        let status = answer.status().as_u16();
        answer.bytes().await?;
        Ok(status)
    }
}

fn record(tally: &mut Tally, result: Result<u16, reqwest::Error>, took: Duration) {
    match result {
        Ok(status) => {
            *tally.codes.entry(status).or_default() += 1;
            if !(200..300).contains(&status) {
                tally.non_2xx += 1;
            }
            tally.latencies.push(took.as_micros() as u64);
        }
        Err(_) => tally.errors += 1,
    }
}

/// `load URL[,URL…] TOKEN new|replay CONNS SECS [RATE]`: RATE > 0 runs open loop at RATE
/// requests/s. Several URLs (instances on one database) take the requests in turn.
pub async fn run(args: &[String]) -> anyhow::Result<()> {
    let [urls, token, mode, conns, secs, rest @ ..] = args else {
        anyhow::bail!("usage: bench load URL[,URL…] TOKEN new|replay CONNS SECS [RATE]");
    };
    let conns: usize = conns.parse()?;
    let secs: f64 = secs.parse()?;
    let rate: f64 = rest.first().map_or(Ok(0.0), |r| r.parse())?;
    let target = Arc::new(Target {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(conns.max(64))
            .timeout(Duration::from_secs(30))
            .build()?,
        urls: urls
            .split(',')
            .map(|url| format!("{url}/webhooks/signup"))
            .collect(),
        token: token.clone(),
        replay: mode == "replay",
        run_id: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos(),
        counter: AtomicU64::new(0),
    });
    if target.replay {
        prime(&target).await?;
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let mut tasks = tokio::task::JoinSet::new();
    if rate > 0.0 {
        // Open loop: request i is due at started + i/rate, whatever the answers do.
        let mut i = 0u64;
        loop {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            if due >= until {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
            let (target, tally) = (target.clone(), tally.clone());
            tasks.spawn(async move {
                let result = target.send().await;
                record(&mut *tally.lock().await, result, due.elapsed());
            });
            i += 1;
        }
    } else {
        for _ in 0..conns {
            let (target, tally) = (target.clone(), tally.clone());
            tasks.spawn(async move {
                let mut mine = Tally::default();
                while Instant::now() < until {
                    let sent = Instant::now();
                    let result = target.send().await;
                    record(&mut mine, result, sent.elapsed());
                }
                let mut all = tally.lock().await;
                all.latencies.extend(mine.latencies);
                all.non_2xx += mine.non_2xx;
                all.errors += mine.errors;
                for (code, n) in mine.codes {
                    *all.codes.entry(code).or_default() += n;
                }
            });
        }
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let mut tally = Arc::try_unwrap(tally)
        .map_err(|_| anyhow::anyhow!("tally still shared"))?
        .into_inner();
    tally.latencies.sort_unstable();
    let pct = |p: f64| {
        let n = tally.latencies.len();
        if n == 0 {
            return 0.0;
        }
        tally.latencies[((n as f64 * p).ceil() as usize).clamp(1, n) - 1] as f64 / 1000.0
    };
    let codes: Vec<String> = tally
        .codes
        .iter()
        .map(|(c, n)| format!("{c}:{n}"))
        .collect();
    println!(
        "RESULT rps={:.1} p50_ms={:.2} p99_ms={:.2} requests={} non2xx={} errors={} codes={}",
        tally.latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        tally.latencies.len(),
        tally.non_2xx,
        tally.errors,
        codes.join(",")
    );
    Ok(())
}

/// Create the replayed signup and wait until it is final (answered 200 or 201).
async fn prime(target: &Target) -> anyhow::Result<()> {
    for _ in 0..100 {
        if let Ok(200 | 201) = target.send().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the replayed signup never became final")
}
