//! Records the git commit the binary was built from, for `--version`: `SIGNUP_BRIDGE_GIT_COMMIT`
//! is the short hash of HEAD, or empty outside a checkout
//! (a crate tarball, a container build without `.git`).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=SIGNUP_BRIDGE_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves (a commit, a checkout); the paths come from git itself so
    // worktrees work too.
    if let Some(p) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={p}");
    }
    if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(p) = git(&["rev-parse", "--git-path", &head_ref])
    {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
