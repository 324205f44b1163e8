//! Calls to Jira Service Management: the customer create, user search, the desk and
//! organization steps and the welcome request, with per-tenant outbound auth and typed outcomes.

mod auth;
mod call;
mod client;
mod error;
mod lookup;
mod near_limit;
mod oauth;
mod reset_time;
mod response;
mod summary;
mod welcome;

pub use auth::{AppCredentials, OutboundAuth, connect_token};
pub use call::JsmCall;
pub use client::{CreateOutcome, JsmClient, JsmTarget, jsm_url};
pub use error::{JsmError, parse_rate_limit_reset, parse_retry_after};
pub use oauth::OAuthTokenSource;
pub use reset_time::parse_iso8601;
pub use response::{DUPLICATE_EMAIL_PHRASES, Lookup, QUOTA_REASON_PREFIX};
pub use welcome::{WelcomeCall, welcome_jql, welcome_marker, with_marker};
