//! Connect query-string hash (qsh).
