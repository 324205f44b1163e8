//! Inbound authentication: sources, JWT verification (HMAC, public keys, JWKS), Connect
//! query-string hashes, and the per-source rate limit applied after authentication.

mod jwks;
mod jwt;
pub mod keys;
mod mint;
pub mod qsh;
mod rate_limit;
mod source_keys;

pub use jwt::{RequestTarget, TokenError, TokenVerifier, VerifiedToken};
pub use mint::mint_hs256;
pub use rate_limit::{RateLimited, RateLimits};

/// The token of an `Authorization` header: `Bearer <jwt>` or `JWT <jwt>` (scheme case-insensitive).
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let scheme_ok = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("jwt");
    let token = token.trim();
    (scheme_ok && !token.is_empty()).then_some(token)
}
