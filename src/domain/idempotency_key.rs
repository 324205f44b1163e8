//! Idempotency keys: from the `Idempotency-Key` header, the JWT `jti`, or the payload fingerprint.

use sha2::{Digest, Sha256};

/// A validated key: 1–255 visible ASCII characters. Keys are scoped by source in storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parse a header value: an RFC 8941 string (`"abc"`) or a bare token (`abc`), the same key.
    pub fn from_header(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let key = if let Some(quoted) = raw.strip_prefix('"') {
            let inner = quoted
                .strip_suffix('"')
                .ok_or("a quoted key must end with a quote")?;
            unescape(inner)?
        } else {
            raw.to_string()
        };
        Self::validate(key)
    }

    /// A key taken from the JWT `jti` claim.
    pub fn from_jti(jti: &str) -> Result<Self, String> {
        Self::validate(jti.to_string()).map_err(|e| format!("the token's jti {e}"))
    }

    /// A key derived from the request (a scheme's delivery id, a mapped body field): as is
    /// when it keeps the key rule, else `sha256:` + its hex SHA-256, so any value keys a delivery.
    pub fn derived(value: &str) -> Self {
        Self::validate(value.to_string())
            .unwrap_or_else(|_| Self(format!("sha256:{}", hex::encode(Sha256::digest(value)))))
    }

    /// The key of a keyless request: `sha256:` + the fingerprint.
    pub fn from_fingerprint(fingerprint: &str) -> Self {
        Self(format!("sha256:{fingerprint}"))
    }

    fn validate(key: String) -> Result<Self, String> {
        if key.is_empty() || key.len() > 255 {
            return Err("must be 1 to 255 characters".into());
        }
        if !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err("must be visible ASCII characters only".into());
        }
        Ok(Self(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn unescape(inner: &str) -> Result<String, String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                _ => return Err("only \\\" and \\\\ may be escaped in a quoted key".into()),
            },
            '"' => return Err("an unescaped quote inside a quoted key".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Hex SHA-256 of the normalised signup (lowercased email, displayName, tenant reference), so
/// field order, whitespace, unknown fields and the name's source field do not matter.
pub fn fingerprint(email_lowercase: &str, display_name: &str, tenant: &str) -> String {
    let canonical = serde_json::json!([email_lowercase, display_name, tenant]).to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_forms() {
        let ok = [
            ("abc", "abc"),
            ("\"abc\"", "abc"),
            ("  abc  ", "abc"),
            ("\"a\\\"b\"", "a\"b"),
            ("order-42:retry/1", "order-42:retry/1"),
        ];
        for (raw, want) in ok {
            assert_eq!(
                IdempotencyKey::from_header(raw).unwrap().as_str(),
                want,
                "{raw:?}"
            );
        }
        let too_long = "k".repeat(256);
        let bad = [
            "",
            "\"\"",
            "\"abc",
            "a b",
            "\"a b\"",
            "\"a\\nb\"",
            "é",
            too_long.as_str(),
        ];
        for raw in bad {
            assert!(IdempotencyKey::from_header(raw).is_err(), "{raw:?}");
        }
        assert!(IdempotencyKey::from_header(&"k".repeat(255)).is_ok());
    }

    #[test]
    fn derived_values_that_break_the_rule_are_hashed() {
        let long = "k".repeat(256);
        let cases = [
            (
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk".to_string(),
            ),
            (
                "a b",
                format!("sha256:{}", hex::encode(Sha256::digest("a b"))),
            ),
            ("é", format!("sha256:{}", hex::encode(Sha256::digest("é")))),
            ("", format!("sha256:{}", hex::encode(Sha256::digest("")))),
            (
                long.as_str(),
                format!("sha256:{}", hex::encode(Sha256::digest(&long))),
            ),
        ];
        for (value, want) in cases {
            assert_eq!(IdempotencyKey::derived(value).as_str(), want, "{value:?}");
        }
    }

    #[test]
    fn fingerprint_is_stable_and_distinguishing() {
        let a = fingerprint("fred@example.com", "Fred", "acme");
        assert_eq!(a, fingerprint("fred@example.com", "Fred", "acme"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, fingerprint("fred@example.com", "Fred ", "acme"));
        assert_ne!(a, fingerprint("fred@example.com", "Fred", "other"));
        assert_eq!(
            IdempotencyKey::from_fingerprint(&a).as_str(),
            format!("sha256:{a}")
        );
    }
}
