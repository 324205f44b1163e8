//! `Idempotency-Key` header parsing and the jti and derived keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signup_bridge::domain::IdempotencyKey;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = IdempotencyKey::from_header(text) {
        let key = key.as_str();
        assert!(!key.is_empty() && key.len() <= 255, "{key:?}");
        assert!(key.bytes().all(|b| (0x21..=0x7e).contains(&b)), "{key:?}");
    }
    let _ = IdempotencyKey::from_jti(text);
    let derived = IdempotencyKey::derived(text);
    assert!(derived.as_str().len() <= 255);
});
