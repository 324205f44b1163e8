//! Inbound authentication: sources, JWT verification (HMAC, public keys, JWKS), Connect
//! query-string hashes, and the per-source rate limit applied after authentication.

mod failure_limit;
pub mod jwks;
mod jwt;
pub mod keys;
mod mint;
pub mod qsh;
mod rate_limit;
mod sender;
pub mod signature;
mod source_keys;

pub use failure_limit::{FAILURES_PER_MINUTE, FailureLimits};
pub use jwt::{RequestTarget, TokenError, TokenVerifier, VerifiedToken};
pub use mint::mint_hs256;
pub use rate_limit::{RateLimited, RateLimits};
pub use sender::{RequestHead, Sender, SenderRejection, verify_sender};
pub use source_keys::check_public_keys;

/// The token of an `Authorization` header: `Bearer <jwt>` or `JWT <jwt>` (scheme case-insensitive).
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let scheme_ok = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("jwt");
    let token = token.trim();
    (scheme_ok && !token.is_empty()).then_some(token)
}

/// A token's claims read WITHOUT verifying it: only to pick the key to verify with, or to
/// refuse a token early. The error is a message safe to answer with.
pub fn unverified_claims<T: serde::de::DeserializeOwned>(token: &str) -> Result<T, &'static str> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).ok_or("the token is malformed")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "the token is malformed")?;
    serde_json::from_slice(&bytes).map_err(|_| "the token's claims are malformed")
}
