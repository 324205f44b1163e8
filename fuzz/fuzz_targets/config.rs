//! The configuration loader: TOML text, `${ENV}` substitution, typed config, validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signup_bridge::config::load_from_text;

fuzz_target!(|data: &[u8]| {
    contain_parser_panics();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A fixed environment: every `${NAME}` resolves, to a value long enough for secret rules.
    let env =
        |name: &str| (name.len() < 64).then(|| format!("{name}-0123456789abcdef0123456789abcdef"));
    let _ = load_from_text(text, "fuzz.toml", &env);
});

/// `compile_path` contains the JSONPath parser's own panics (`catch_unwind`); libFuzzer's
/// panic hook would abort on them before that. With the default hook back, a contained panic
/// is only printed, and any other panic still ends the run (libfuzzer-sys aborts on it).
fn contain_parser_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| drop(std::panic::take_hook()));
}
