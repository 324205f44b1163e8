//! `healthcheck`: asks a running `serve` whether it is ready, for images without curl
//! (compose and Kubernetes call it in exec form). Exit 0 when `/readyz` answers 2xx, exactly 1
//! otherwise — a config that does not load included, since a probe knows only ready or not.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::config::Config;

/// How long the probe waits for an answer: `readyz` itself answers within 2 s.
const TIMEOUT: Duration = Duration::from_secs(5);

/// `/readyz` on the configured listen address; a wildcard address is asked on loopback.
pub fn default_url(config: &Config) -> String {
    let listen = config.server.listen.trim();
    let (host, port) = match listen.rsplit_once(':') {
        Some((host, port)) => (host, port),
        None => ("127.0.0.1", "8080"),
    };
    let host = match host {
        "" | "0.0.0.0" => "127.0.0.1",
        "[::]" => "[::1]",
        other => other,
    };
    format!("http://{host}:{port}/readyz")
}

pub async fn run(url: &str) -> anyhow::Result<()> {
    let client = crate::outbound::client_builder()
        .timeout(TIMEOUT)
        .build()
        .context("cannot build an HTTP client")?;
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("{url}: no answer"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("{url}: not ready ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_url_asks_loopback_for_wildcard_listen_addresses() {
        for (listen, url) in [
            ("127.0.0.1:8080", "http://127.0.0.1:8080/readyz"),
            ("0.0.0.0:9000", "http://127.0.0.1:9000/readyz"),
            ("[::]:8080", "http://[::1]:8080/readyz"),
            ("[::1]:8081", "http://[::1]:8081/readyz"),
            ("localhost:8082", "http://localhost:8082/readyz"),
        ] {
            let mut config = Config::default();
            config.server.listen = listen.to_string();
            assert_eq!(default_url(&config), url, "{listen}");
        }
    }
}
