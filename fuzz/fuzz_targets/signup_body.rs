//! The signup body parser: JSON and form bodies (the first byte picks the format).
#![no_main]

use libfuzzer_sys::fuzz_target;
use signup_bridge::domain::{BodyFormat, NewSignup, document};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let format = if selector & 1 == 0 {
        BodyFormat::Json
    } else {
        BodyFormat::Form
    };
    let _ = document(body, format);
    if let Ok(signup) = NewSignup::parse(body, format) {
        // What parsed must be what the rest of the service relies on.
        assert!(!signup.email.as_str().is_empty());
    }
});
