//! JWT header and claims parsing through the verifier a source uses.
//!
//! Input: one selector byte, then either a raw token (even selector) or a header JSON, a NUL
//! and a claims JSON (odd selector) that this target signs with the source's HS256 secret, so
//! hostile claims get past the signature to the claim checks.
#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use signup_bridge::auth::{RequestTarget, TokenVerifier};
use signup_bridge::config::{Config, Secret, SourceConfig};

const SECRET: &str = "fuzz-secret-0123456789abcdef0123456789";

fn verifier() -> &'static (tokio::runtime::Runtime, TokenVerifier) {
    static CELL: OnceLock<(tokio::runtime::Runtime, TokenVerifier)> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut config = Config::default();
        config
            .sources
            .push(SourceConfig::hmac("fuzz", "tenant", Secret::new(SECRET)));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let verifier = TokenVerifier::from_config(&config).expect("verifier");
        (runtime, verifier)
    })
}

fn signed(header: &[u8], claims: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let token = if selector & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let (header, claims) = rest.split_at(split);
        signed(header, claims.get(1..).unwrap_or_default())
    };
    let target = RequestTarget {
        method: "POST",
        path: "/webhooks/signup",
        query: "",
    };
    let (runtime, verifier) = verifier();
    let _ = runtime.block_on(verifier.verify(&token, &target));
});
