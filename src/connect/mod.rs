//! Atlassian Connect: the app descriptor, Atlassian's install keys and lifecycle verification.
//! Installations themselves are stored by `store`; calls to JSM as the app are signed by
//! `jsm::OutboundAuth::Connect`.

pub mod descriptor;
mod fetch_budget;
mod install_keys;
pub mod lifecycle;

pub use install_keys::{InstallKeys, KeyError};
pub use lifecycle::{InstallRefusal, LifecycleError};

use std::time::Duration;

/// What the lifecycle routes need, built once at start.
pub struct ConnectState {
    /// `server.public_url` (or `http://<bound addr>`), without trailing slash: the JWT `aud`.
    pub public_url: String,
    /// The rendered descriptor.
    pub descriptor: String,
    pub install_keys: InstallKeys,
    pub leeway: Duration,
}
