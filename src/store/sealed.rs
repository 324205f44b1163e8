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
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| "must be base64 (e.g. `openssl rand -base64 32`)".to_string())?;
        if bytes.len() != 32 {
            return Err(format!(
                "must decode to 32 bytes, got {} (e.g. `openssl rand -base64 32`)",
                bytes.len()
            ));
        }
        let cipher = ChaCha20Poly1305::new_from_slice(&bytes)
            .map_err(|_| "must decode to 32 bytes".to_string())?;
        Ok(Self { cipher })
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

/// Where a Connect sharedSecret is stored, as sealing context.
pub(super) fn shared_secret_context(client_key: &str) -> String {
    format!("installations.shared_secret:{client_key}")
}

/// Where a Forge app system token is stored, as sealing context.
pub(super) fn forge_token_context(installation_id: &str) -> String {
    format!("forge_installations.system_token:{installation_id}")
}

/// Where a local secret is stored, as sealing context.
pub(super) fn local_secret_context(name: &str) -> String {
    format!("local_secrets.value:{name}")
}

impl super::Store {
    /// At open: every sealed secret must open with the configured key, so a missing or wrong
    /// key stops start-up with a clear message instead of failing call after call.
    pub(super) async fn check_sealed_secrets(&self) -> Result<(), sqlx::Error> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT 'installations.shared_secret:' || client_key, shared_secret FROM installations
             WHERE shared_secret LIKE 'enc:v1:%'
             UNION ALL
             SELECT 'local_secrets.value:' || name, value FROM local_secrets
             WHERE value LIKE 'enc:v1:%'
             UNION ALL
             SELECT 'forge_installations.system_token:' || installation_id, system_token
             FROM forge_installations WHERE system_token LIKE 'enc:v1:%'",
        )
        .fetch_all(&self.reader)
        .await?;
        for (context, stored) in rows {
            reveal(self.key(), &context, &stored)
                .map_err(|e| sqlx::Error::Configuration(e.into()))?;
        }
        Ok(())
    }
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
