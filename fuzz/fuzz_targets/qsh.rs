//! The qsh canonical request and the path relative to the public URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signup_bridge::auth::qsh::{canonical_request, qsh, relative_path};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    let query = parts.next().unwrap_or_default();
    let _ = canonical_request(method, path, query);
    let hash = qsh(method, path, query);
    assert_eq!(hash.len(), 64);
    let _ = relative_path(method, path);
});
