//! Driving the real `signup-bridge` binary: start, SIGTERM, kill -9.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::helpers::{JSM_EMAIL, JSM_TOKEN, SECRET, SOURCE, TENANT, binary};

/// A running `signup-bridge serve`.
pub struct BridgeProcess {
    child: Child,
    pub address: String,
    logs: Arc<Mutex<Vec<String>>>,
}

/// A config file for the binary: the test tenant at `jsm_base_url`, the test source, fast
/// retries. `delivery` holds extra `[delivery]` lines (a key given there replaces the default),
/// `tenant` extra lines for the tenant (e.g. `service_desk_ids = [10]`).
pub fn write_config(
    dir: &Path,
    jsm_base_url: &str,
    delivery: &str,
    tenant: &str,
) -> std::path::PathBuf {
    let db = format!("sqlite://{}", dir.join("bridge.db").display());
    write_config_on(dir, &db, "", jsm_base_url, delivery, tenant)
}

/// `write_config` with the database at `database_url` (e.g. a PostgreSQL test schema, see
/// `postgres::TestSchema::url`) and extra `[database]` lines (e.g. `max_connections = 4`).
pub fn write_config_on(
    dir: &Path,
    database_url: &str,
    database: &str,
    jsm_base_url: &str,
    delivery: &str,
    tenant: &str,
) -> std::path::PathBuf {
    let path = dir.join("bridge.toml");
    let defaults = [
        ("inline_wait", "\"1s\""),
        ("request_timeout", "\"2s\""),
        ("backoff_base", "\"100ms\""),
        ("backoff_max", "\"500ms\""),
    ];
    let mut delivery_lines: Vec<String> = defaults
        .iter()
        .filter(|(key, _)| !delivery.lines().any(|l| l.trim_start().starts_with(key)))
        .map(|(key, value)| format!("{key} = {value}"))
        .collect();
    delivery_lines.extend(delivery.lines().map(str::to_string));
    let delivery = delivery_lines.join("\n");
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"

[database]
url = "{database_url}"
{database}

[delivery]
{delivery}

[[tenants]]
id = "{TENANT}"
base_url = "{jsm_base_url}"
auth = {{ type = "basic", email = "{JSM_EMAIL}", api_token = "{JSM_TOKEN}" }}
{tenant}

[[sources]]
id = "{SOURCE}"
tenant = "{TENANT}"
secret = "{SECRET}"
"#
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// Run a non-serve subcommand against a config; (exit code, stdout, stderr).
pub fn run_cli(config: &Path, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(binary())
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .expect("run signup-bridge");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

impl BridgeProcess {
    /// Start `serve --config FILE` and wait for its `listening on` line.
    pub async fn start(config: &Path) -> Self {
        Self::start_with_env(config, &[("SIGNUP_BRIDGE_LOG", "info")]).await
    }

    /// Start with extra environment variables; every stdout line is kept (see `logs`).
    pub async fn start_with_env(config: &Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary());
        command
            .args(["serve", "--config"])
            .arg(config)
            .env_remove("SIGNUP_BRIDGE_LOG_FORMAT")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("spawn signup-bridge");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let address = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                logs.lock().unwrap().push(line.clone());
                if let Some(at) = line.find("listening on ") {
                    let rest = &line[at + "listening on ".len()..];
                    return rest
                        .split(['"', ' '])
                        .next()
                        .unwrap_or(rest)
                        .trim()
                        .to_string();
                }
            }
            panic!("signup-bridge exited before listening");
        })
        .await
        .expect("signup-bridge did not start in time");
        // Keep draining stdout so the child never blocks on a full pipe.
        let kept = Arc::clone(&logs);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            address,
            logs,
        }
    }

    /// Every line the process has written to stdout so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// Whether the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL: no chance to clean up.
    pub async fn kill9(mut self) {
        self.child.start_kill().expect("kill");
        let _ = self.child.wait().await;
    }

    /// SIGTERM, then the exit status.
    pub async fn terminate(self) -> std::process::ExitStatus {
        self.terminate_with_logs().await.0
    }

    /// SIGTERM; the exit status and every line written.
    pub async fn terminate_with_logs(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.id().expect("pid").to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("exit after SIGTERM")
            .expect("wait");
        tokio::time::sleep(Duration::from_millis(100)).await;
        (status, self.logs())
    }
}
