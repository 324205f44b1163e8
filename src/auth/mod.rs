//! Inbound authentication: sources, JWT verification, Connect query-string hashes.

pub mod qsh;
