//! JSONPath field mapping: a hostile query over a hostile body, for every scheme's built-ins.
//!
//! Input: one selector byte (scheme and body format), the query, a NUL, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signup_bridge::config::{FieldsConfig, Secret, SourceConfig, VerifyScheme};
use signup_bridge::domain::{BodyFormat, FieldMap, compile_path};

const SCHEMES: [VerifyScheme; 9] = [
    VerifyScheme::Jwt,
    VerifyScheme::StandardWebhooks,
    VerifyScheme::Stripe,
    VerifyScheme::Typeform,
    VerifyScheme::Tally,
    VerifyScheme::Webflow,
    VerifyScheme::HubspotV3,
    VerifyScheme::Header,
    VerifyScheme::Query,
];

fuzz_target!(|data: &[u8]| {
    contain_parser_panics();
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let scheme = SCHEMES[usize::from(selector & 0x0f) % SCHEMES.len()];
    let format = if selector & 0x10 == 0 {
        BodyFormat::Json
    } else {
        BodyFormat::Form
    };
    let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let (query, body) = rest.split_at(split);
    let body = body.get(1..).unwrap_or_default();
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let mut source = SourceConfig::hmac("fuzz", "tenant", Secret::new("x"));
    source.verify = scheme;
    if compile_path(query).is_ok() {
        // The same query in every slot: whichever the mapping reads, it reads hostile input.
        source.fields = Some(FieldsConfig {
            email: Some(query.to_string()),
            display_name: (selector & 0x20 != 0).then(|| query.to_string()),
            first_name: (selector & 0x40 != 0).then(|| query.to_string()),
            last_name: None,
            idempotency_key: (selector & 0x80 != 0).then(|| query.to_string()),
        });
    }
    let _ = FieldMap::for_source(&source, format).parse(body, format);
});

/// `compile_path` contains the JSONPath parser's own panics (`catch_unwind`); libFuzzer's
/// panic hook would abort on them before that. With the default hook back, a contained panic
/// is only printed, and any other panic still ends the run (libfuzzer-sys aborts on it).
fn contain_parser_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| drop(std::panic::take_hook()));
}
