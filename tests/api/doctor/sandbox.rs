//! `doctor --sandbox`: the sandbox tenant of a running `serve --sandbox` passes every check,
//! checked from another shell with the very credentials `serve` uses.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::binary;

/// `signup-bridge doctor --sandbox` in `dir` with no config file; (code, stdout, stderr).
async fn doctor_sandbox(dir: &Path) -> (i32, String, String) {
    let output = tokio::process::Command::new(binary())
        .args(["doctor", "--sandbox"])
        .current_dir(dir)
        .env_remove("SIGNUP_BRIDGE_CONFIG")
        .env_remove("SIGNUP_BRIDGE_DATABASE_URL")
        .output()
        .await
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_running_sandbox_passes_doctor() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = doctor_sandbox(dir.path()).await;
    assert_eq!(code, 2, "no sandbox ran here yet: {stdout}{stderr}");
    assert!(stderr.contains("serve --sandbox"), "{stderr}");
    assert!(!dir.path().join("signup-bridge.db").exists());

    let mut child = tokio::process::Command::new(binary())
        .args(["serve", "--sandbox", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("SIGNUP_BRIDGE_CONFIG")
        .env_remove("SIGNUP_BRIDGE_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("curl ") {
                return;
            }
        }
        panic!("no curl line");
    })
    .await
    .unwrap();

    let (code, stdout, stderr) = doctor_sandbox(dir.path()).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("tenant sandbox\n"), "{stdout}");
    let checks: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  ")).collect();
    assert!(checks.len() >= 7, "{stdout}");
    assert!(
        checks.iter().all(|l| l.trim_start().starts_with("ok ")),
        "{stdout}"
    );
    let _ = child.start_kill();
    let _ = child.wait().await;
}
