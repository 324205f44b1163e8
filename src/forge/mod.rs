//! Forge Remote: the bridge as the remote backend of a Forge app. Forge calls the bridge with
//! a Forge Invocation Token (`fit`) and, on endpoints that enable it, the app system token the
//! bridge then calls JSM with. Installations are stored by `store`; calls to JSM as the app go
//! through `delivery`'s Forge credentials.

pub mod event;
pub mod fit;
#[cfg(test)]
mod fit_tests;
pub mod manifest;

pub use event::{ForgeEvent, read_event};
pub use fit::{FitRejected, FitVerifier, VerifiedFit, system_token_exp};
