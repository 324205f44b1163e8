//! Logging: text or JSON (`SIGNUP_BRIDGE_LOG_FORMAT`), filtered by `SIGNUP_BRIDGE_LOG`.
//! `serve` and `jsm-sim` log to stdout; every other command to stderr, so its stdout is
//! exactly its output. `serve` may add the trace exporter (see `traces`) beside the logs,
//! with a filter of its own: the log filter never hides a span from the traces.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// A layer of the global subscriber.
pub type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Install the global subscriber (once per process; later calls are ignored).
pub fn init(target: LogTarget, default_filter: &str) {
    init_with(target, default_filter, None);
}

/// `init`, plus `extra` (the trace exporter) when given.
pub fn init_with(target: LogTarget, default_filter: &str, extra: Option<BoxedLayer>) {
    let filter = std::env::var("SIGNUP_BRIDGE_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default_filter));
    let json =
        std::env::var("SIGNUP_BRIDGE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs: BoxedLayer = match (json, target) {
        (true, LogTarget::Stdout) => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stdout)
            .with_filter(filter)
            .boxed(),
        (true, LogTarget::Stderr) => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
        (false, LogTarget::Stdout) => tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(std::io::stdout)
            .with_filter(filter)
            .boxed(),
        (false, LogTarget::Stderr) => tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
    };
    let layers: Vec<BoxedLayer> = std::iter::once(logs).chain(extra).collect();
    let _ = tracing_subscriber::registry().with(layers).try_init();
}
