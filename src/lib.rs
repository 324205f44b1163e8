//! signup-bridge: signed signup webhooks become Jira Service Management customers, exactly once.

pub mod auth;
pub mod sim;
