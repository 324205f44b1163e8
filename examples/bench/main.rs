//! The benchmark tools behind `scripts/bench.sh` (see docs/BENCHMARKS.md):
//!
//! - `ceiling SECS DB`: a loop of single-row commits (WAL, `synchronous = FULL`) for SECS
//!   seconds; commits/s. The machine's per-commit ceiling, measured in the same run.
//! - `bare ADDR`: a bare actix-web handler (POST JSON → JSON), the ceiling for replays.
//! - `load ...`: an HTTP load generator, closed loop (N connections, each sends its next
//!   request when the previous answer arrived) or open loop (a fixed rate, latency counted from
//!   each request's scheduled time, so a slow server cannot hide its queue). A comma-separated
//!   list of URLs spreads the requests over several instances, in turn.

mod bare;
mod ceiling;
mod load;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // reqwest is built without a default TLS provider (as the service itself).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("ceiling") => runtime.block_on(ceiling::run(&args[1..])),
        Some("bare") => bare::run(&args[1..]),
        Some("load") => runtime.block_on(load::run(&args[1..])),
        _ => anyhow::bail!(
            "usage: bench ceiling SECS DB | bench bare ADDR | \
             bench load URL[,URL…] TOKEN new|replay CONNS SECS [RATE]"
        ),
    }
}
