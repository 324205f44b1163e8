//! Inbound authentication: sources, JWT verification, Connect query-string hashes.

mod jwt;
mod mint;
pub mod qsh;

pub use jwt::{RequestTarget, TokenError, TokenVerifier, VerifiedToken};
pub use mint::mint_hs256;

/// The token of an `Authorization` header: `Bearer <jwt>` or `JWT <jwt>` (scheme case-insensitive).
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let scheme_ok = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("jwt");
    let token = token.trim();
    (scheme_ok && !token.is_empty()).then_some(token)
}
