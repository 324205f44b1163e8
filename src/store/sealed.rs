//! Encryption at rest for stored secrets (Connect sharedSecrets, the bridge's own local
//! secrets, and later Forge system tokens), with ChaCha20-Poly1305 under
//! `database.encryption_key`.
//!
//! A stored value is either plaintext (written before a key was configured) or
//! `enc:v1:<base64(nonce ‖ ciphertext ‖ tag)>`. Plaintext stays readable and is sealed the next
//! time it is written; a sealed value without the key, or with another key, is an error — never
//! a silently wrong secret. Each value is bound to where it is stored (`context`, e.g.
//! `installations.shared_secret:<clientKey>`), so a sealed value copied to another row does
//! not open. Key rotation is not supported in this version.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

/// The prefix of a sealed value, naming the format version.
pub const SEALED_PREFIX: &str = "enc:v1:";
const NONCE_BYTES: usize = 12;

/// Why a stored value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("{0} is encrypted, but database.encryption_key is not set")]
    NoKey(String),
    #[error("{0} does not decrypt with database.encryption_key (another key, or damaged)")]
    WrongKey(String),
}

/// The at-rest cipher. Deliberately without `Debug`: it holds the key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    /// From the configured key: standard base64 of exactly 32 bytes.
    pub fn from_base64(key: &str) -> Result<Self, String> {
        let bytes = crate::config::decode_encryption_key(key)?;
        Ok(Self {
            cipher: ChaCha20Poly1305::new(&bytes.into()),
        })
    }

    /// The at-rest cipher of `database.encryption_key`, if one is set; the error names the key.
    pub fn of_config(database: &crate::config::DatabaseConfig) -> Result<Option<Self>, String> {
        Ok(database.encryption_key_bytes()?.map(|bytes| Self {
            cipher: ChaCha20Poly1305::new(&bytes.into()),
        }))
    }

    /// Seal `plaintext` for the place named by `context`.
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.as_bytes(),
        };
        // Encryption into a Vec fails only past the cipher's length limit (~256 GiB).
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), payload)
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(bytes))
    }

    fn open_sealed(&self, context: &str, body: &str) -> Option<String> {
        let bytes = STANDARD.decode(body).ok()?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        let payload = Payload {
            msg: sealed,
            aad: context.as_bytes(),
        };
        let plain = self.cipher.decrypt(&Nonce::from(nonce), payload).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// What to store for `plaintext`: sealed when a key is configured, as is otherwise.
pub fn conceal(key: Option<&SecretBox>, context: &str, plaintext: &str) -> String {
    match key {
        Some(key) if !plaintext.is_empty() => key.seal(context, plaintext),
        _ => plaintext.to_string(),
    }
}

/// The secret behind a stored value (see the module doc for the rules).
pub fn reveal(key: Option<&SecretBox>, context: &str, stored: &str) -> Result<String, SealError> {
    let Some(body) = stored.strip_prefix(SEALED_PREFIX) else {
        return Ok(stored.to_string());
    };
    let key = key.ok_or_else(|| SealError::NoKey(context.to_string()))?;
    key.open_sealed(context, body)
        .ok_or_else(|| SealError::WrongKey(context.to_string()))
}

/// True when a stored value is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// Where a Connect sharedSecret is stored, as sealing context: the row and the `baseUrl` the
/// secret signs calls to, so a sealed secret does not open once the row's URL was changed.
pub(super) fn shared_secret_context(client_key: &str, base_url: &str) -> String {
    format!("installations.shared_secret:{client_key} for baseUrl {base_url}")
}

/// Where a Forge app system token is stored, as sealing context: the row and the
/// `apiBaseUrl` the token is sent to.
pub(super) fn forge_token_context(installation_id: &str, api_base_url: &str) -> String {
    format!("forge_installations.system_token:{installation_id} for apiBaseUrl {api_base_url}")
}

/// The sealing contexts of versions that did not bind the URL (values they wrote open under
/// these until the start-up pass reseals them; docs/DECISIONS.md).
pub(super) mod legacy {
    pub fn shared_secret_context(client_key: &str) -> String {
        format!("installations.shared_secret:{client_key}")
    }

    pub fn forge_token_context(installation_id: &str) -> String {
        format!("forge_installations.system_token:{installation_id}")
    }
}

/// The secret behind a stored value sealed under `context`, or else under `legacy` (sealed by
/// an earlier version); `true` with it when the legacy context opened it.
pub fn reveal_bound(
    key: Option<&SecretBox>,
    context: &str,
    legacy: &str,
    stored: &str,
) -> Result<(String, bool), SealError> {
    match reveal(key, context, stored) {
        Ok(plain) => Ok((plain, false)),
        Err(SealError::WrongKey(_)) => match reveal(key, legacy, stored) {
            Ok(plain) => Ok((plain, true)),
            Err(_) => Err(SealError::WrongKey(context.to_string())),
        },
        Err(e) => Err(e),
    }
}

/// Where a local secret is stored, as sealing context.
pub(super) fn local_secret_context(name: &str) -> String {
    format!("local_secrets.value:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 ASCII bytes
    const OTHER: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(SecretBox::from_base64(KEY).is_ok());
        for bad in [
            "",
            "not base64!",
            "MDEyMzQ1Njc4OWFiY2RlZg==",
            &format!("{KEY}AAAA"),
        ] {
            assert!(SecretBox::from_base64(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sealed_values_round_trip_and_hide_the_plaintext() {
        let key = SecretBox::from_base64(KEY).unwrap();
        let stored = conceal(Some(&key), "t:a", "the-shared-secret");
        assert!(stored.starts_with(SEALED_PREFIX) && !stored.contains("the-shared-secret"));
        assert_ne!(
            stored,
            conceal(Some(&key), "t:a", "the-shared-secret"),
            "fresh nonce"
        );
        assert_eq!(
            reveal(Some(&key), "t:a", &stored).unwrap(),
            "the-shared-secret"
        );
    }

    #[test]
    fn what_cannot_be_opened_is_an_error_never_a_wrong_secret() {
        let key = SecretBox::from_base64(KEY).unwrap();
        let other = SecretBox::from_base64(OTHER).unwrap();
        let stored = key.seal("t:a", "s3cret");
        let cases = [
            (None, "t:a", stored.clone(), SealError::NoKey("t:a".into())),
            (
                Some(&other),
                "t:a",
                stored.clone(),
                SealError::WrongKey("t:a".into()),
            ),
            // Moved to another row: the context no longer matches.
            (
                Some(&key),
                "t:b",
                stored.clone(),
                SealError::WrongKey("t:b".into()),
            ),
            (
                Some(&key),
                "t:a",
                format!("{SEALED_PREFIX}AAAA"),
                SealError::WrongKey("t:a".into()),
            ),
            (
                Some(&key),
                "t:a",
                format!("{SEALED_PREFIX}%%%"),
                SealError::WrongKey("t:a".into()),
            ),
        ];
        for (key, context, stored, want) in cases {
            assert_eq!(reveal(key, context, &stored), Err(want), "{stored}");
        }
    }

    #[test]
    fn a_bound_value_opens_under_its_url_only_and_a_legacy_one_is_told_apart() {
        let key = SecretBox::from_base64(KEY).unwrap();
        let here = shared_secret_context("ck", "https://acme.atlassian.net");
        let there = shared_secret_context("ck", "https://evil.example.com");
        let legacy = legacy::shared_secret_context("ck");
        let bound = key.seal(&here, "s3cret");
        assert_eq!(
            reveal_bound(Some(&key), &here, &legacy, &bound),
            Ok(("s3cret".into(), false))
        );
        assert_eq!(
            reveal_bound(Some(&key), &there, &legacy, &bound),
            Err(SealError::WrongKey(there.clone()))
        );
        let old = key.seal(&legacy, "s3cret");
        assert_eq!(
            reveal_bound(Some(&key), &here, &legacy, &old),
            Ok(("s3cret".into(), true))
        );
        assert_eq!(
            reveal_bound(None, &here, &legacy, &bound),
            Err(SealError::NoKey(here.clone()))
        );
    }

    #[test]
    fn plaintext_written_before_the_key_stays_readable() {
        let key = SecretBox::from_base64(KEY).unwrap();
        assert_eq!(reveal(Some(&key), "t:a", "old-plain").unwrap(), "old-plain");
        assert_eq!(reveal(None, "t:a", "old-plain").unwrap(), "old-plain");
        assert_eq!(conceal(None, "t:a", "x"), "x");
        assert_eq!(
            conceal(Some(&key), "t:a", ""),
            "",
            "an erased secret stays erased"
        );
        assert!(!is_sealed("old-plain"));
    }
}
