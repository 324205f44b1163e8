//! `healthcheck` (exit 0 when ready, exactly 1 otherwise) and `--version` (SPEC §19).

use super::helpers::*;
use super::process::{BridgeProcess, write_config};

fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> i32 {
    std::process::Command::new(binary())
        .arg("healthcheck")
        .args(args)
        .env_remove("SIGNUP_BRIDGE_CONFIG")
        .envs(env.iter().copied())
        .output()
        .unwrap()
        .status
        .code()
        .unwrap_or(-1)
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn healthcheck_answers_0_for_a_ready_server_and_1_otherwise() {
    let sim = start_sim(sim_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.base_url, "", "");
    let bridge = BridgeProcess::start(&config).await;
    let url = format!("{}/readyz", bridge.address);
    assert_eq!(healthcheck(&["--url", &url], &[]), 0);
    // Without --url: the configured listen address, SIGNUP_BRIDGE_LISTEN included.
    let listen = bridge.address.trim_start_matches("http://");
    assert_eq!(healthcheck(&[], &[("SIGNUP_BRIDGE_LISTEN", listen)]), 0);
    let port = listen.rsplit_once(':').unwrap().1;
    assert_eq!(
        healthcheck(&[], &[("SIGNUP_BRIDGE_LISTEN", &format!("0.0.0.0:{port}"))]),
        0,
        "a wildcard listen address is asked on loopback"
    );
    // A route that is not 2xx is not ready.
    let missing = format!("{}/no-such-route", bridge.address);
    assert_eq!(healthcheck(&["--url", &missing], &[]), 1);
    bridge.terminate().await;

    let closed = format!("http://127.0.0.1:{}/readyz", closed_port());
    assert_eq!(healthcheck(&["--url", &closed], &[]), 1);
    // A config that does not load is "not ready" too: exactly 1, never 2.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nlisen = 1\n").unwrap();
    let code = std::process::Command::new(binary())
        .args(["healthcheck", "--config"])
        .arg(&bad)
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(1));
}

#[test]
fn version_names_the_git_commit_of_a_checkout() {
    let output = std::process::Command::new(binary())
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&output.stdout);
    assert!(
        version.starts_with(concat!("signup-bridge ", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let Ok(git) = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    else {
        super::skip::skipped(
            "healthcheck::version_names_the_git_commit_of_a_checkout",
            "no git",
        );
        return;
    };
    if !git.status.success() {
        super::skip::skipped(
            "healthcheck::version_names_the_git_commit_of_a_checkout",
            "not a checkout",
        );
        return;
    }
    let commit = String::from_utf8_lossy(&git.stdout).trim().to_string();
    assert!(
        version.contains(&format!("({commit})")),
        "{version} lacks {commit}"
    );
}
