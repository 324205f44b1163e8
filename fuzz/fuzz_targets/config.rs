//! The configuration loader: TOML text, `${ENV}` substitution, typed config, validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signup_bridge::config::load_from_text;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A fixed environment: every `${NAME}` resolves, to a value long enough for secret rules.
    let env =
        |name: &str| (name.len() < 64).then(|| format!("{name}-0123456789abcdef0123456789abcdef"));
    let _ = load_from_text(text, "fuzz.toml", &env);
});
