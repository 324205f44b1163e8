//! Logging: text or JSON (`SIGNUP_BRIDGE_LOG_FORMAT`), filtered by `SIGNUP_BRIDGE_LOG`.
//! `serve` and `jsm-sim` log to stdout; every other command to stderr, so its stdout is
//! exactly its output.

use tracing_subscriber::EnvFilter;

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// Install the global subscriber (once per process; later calls are ignored).
pub fn init(target: LogTarget, default_filter: &str) {
    let filter = std::env::var("SIGNUP_BRIDGE_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default_filter));
    let json =
        std::env::var("SIGNUP_BRIDGE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = match (json, target) {
        (true, LogTarget::Stdout) => builder.json().with_writer(std::io::stdout).try_init(),
        (true, LogTarget::Stderr) => builder.json().with_writer(std::io::stderr).try_init(),
        (false, LogTarget::Stdout) => builder
            .with_ansi(false)
            .with_writer(std::io::stdout)
            .try_init(),
        (false, LogTarget::Stderr) => builder
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .try_init(),
    };
    let _ = result;
}
