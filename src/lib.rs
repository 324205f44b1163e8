//! signup-bridge: signed signup webhooks become Jira Service Management customers, exactly once.

pub mod auth;
pub mod cli;
pub mod config;
pub mod connect;
pub mod console;
pub mod delivery;
pub mod doctor;
pub mod domain;
pub mod error;
pub mod forge;
pub mod http;
pub mod jsm;
pub mod metrics;
pub mod outbound;
pub mod sandbox;
pub mod sim;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod traces;

/// `--version`: the crate version and, when built from a git checkout, the commit.
pub const VERSION: &str = {
    const COMMIT: &str = env!("SIGNUP_BRIDGE_GIT_COMMIT");
    if COMMIT.is_empty() {
        env!("CARGO_PKG_VERSION")
    } else {
        concat!(
            env!("CARGO_PKG_VERSION"),
            " (",
            env!("SIGNUP_BRIDGE_GIT_COMMIT"),
            ")"
        )
    }
};
