//! Public keys of asymmetric sources (PEM and JWK) and the algorithms each key type allows.
//!
//! Algorithms are pinned by key type, never taken from the token: RSA verifies RS256/384/512 and
//! PS256/384/512, EC P-256 only ES256, EC P-384 only ES384, Ed25519 only EdDSA. No public key
//! ever verifies an HS* token, so a token MACed with the public key PEM as secret fails.
//! Key material is checked when it is loaded, so a bad key is a start-up error, not a 401 later.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::traits::PublicKeyParts;

use crate::config::SourceConfig;

/// RSA keys shorter than this are refused.
pub const MIN_RSA_BITS: usize = 2048;

/// The type of a public key; it decides which algorithms the key verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

impl KeyKind {
    /// The only algorithms a key of this type verifies.
    pub fn algorithms(self) -> &'static [Algorithm] {
        use Algorithm::*;
        match self {
            Self::Rsa => &[RS256, RS384, RS512, PS256, PS384, PS512],
            Self::EcP256 => &[ES256],
            Self::EcP384 => &[ES384],
            Self::Ed25519 => &[EdDSA],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Rsa => "RSA",
            Self::EcP256 => "EC P-256",
            Self::EcP384 => "EC P-384",
            Self::Ed25519 => "Ed25519",
        }
    }
}

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is not a PEM block (want -----BEGIN PUBLIC KEY-----)")]
    NotPem,
    #[error("is a {0:?} PEM block; want PUBLIC KEY or RSA PUBLIC KEY")]
    NotPublicKey(String),
    #[error("unsupported key type: {0} (RSA, EC P-256/P-384 and Ed25519 are supported)")]
    Unsupported(String),
    #[error("is not a valid {} public key", .0.name())]
    Invalid(KeyKind),
    #[error("RSA key of {0} bits is too short (at least {min})", min = MIN_RSA_BITS)]
    WeakRsa(usize),
    #[error("its alg {alg} does not fit a {} key", .kind.name())]
    AlgMismatch { alg: String, kind: KeyKind },
}

/// A checked public key, and the one algorithm its JWK pins, if any.
#[derive(Clone)]
pub struct PublicKey {
    kind: KeyKind,
    key: DecodingKey,
    pinned: Option<Algorithm>,
}

impl PublicKey {
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Whether this key may verify a token signed with `alg`.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        self.kind.algorithms().contains(&alg) && self.pinned.is_none_or(|p| p == alg)
    }

    pub fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }

    /// An SPKI `PUBLIC KEY` (RSA, EC, Ed25519) or a PKCS#1 `RSA PUBLIC KEY` PEM block.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let label = pem_label(pem).ok_or(KeyError::NotPem)?;
        if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
            return Err(KeyError::NotPublicKey(label.to_string()));
        }
        let bytes = pem.trim().as_bytes();
        let (kind, key) = if let Ok(key) = DecodingKey::from_rsa_pem(bytes) {
            (KeyKind::Rsa, key)
        } else if let Ok(key) = DecodingKey::from_ec_pem(bytes) {
            (ec_curve(&key)?, key)
        } else if let Ok(key) = DecodingKey::from_ed_pem(bytes) {
            (KeyKind::Ed25519, key)
        } else {
            return Err(KeyError::Unsupported(
                "an unknown algorithm or malformed key".into(),
            ));
        };
        check_material(kind, &key)?;
        Ok(Self {
            kind,
            key,
            pinned: None,
        })
    }

    /// A JWK of a JWKS: RSA, EC (P-256/P-384) or OKP (Ed25519), for signatures.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        if let Some(usage) = &jwk.common.public_key_use
            && *usage != PublicKeyUse::Signature
        {
            return Err(KeyError::Unsupported("a key whose use is not sig".into()));
        }
        let kind = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyKind::Rsa,
            AlgorithmParameters::EllipticCurve(p) => match p.curve {
                EllipticCurve::P256 => KeyKind::EcP256,
                EllipticCurve::P384 => KeyKind::EcP384,
                ref other => return Err(KeyError::Unsupported(format!("EC curve {other:?}"))),
            },
            AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                KeyKind::Ed25519
            }
            AlgorithmParameters::OctetKey(_) => {
                return Err(KeyError::Unsupported("a symmetric (oct) key".into()));
            }
            _ => return Err(KeyError::Unsupported("this kty/crv".into())),
        };
        let pinned = match jwk.common.key_algorithm {
            None => None,
            Some(alg) => match jwk_algorithm(alg) {
                Some(a) if kind.algorithms().contains(&a) => Some(a),
                _ => {
                    return Err(KeyError::AlgMismatch {
                        alg: format!("{alg:?}"),
                        kind,
                    });
                }
            },
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|_| KeyError::Invalid(kind))?;
        check_material(kind, &key)?;
        Ok(Self { kind, key, pinned })
    }
}

/// Why a source's configured key cannot be used: the config field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key `{field}`: {reason}")]
pub struct SourceKeyError {
    pub field: String,
    pub reason: String,
}

/// The public key of `public_key_pem` / `public_key_file` (read now, relative to the working
/// directory), or `None` for HMAC and JWKS sources. `prefix` names the source (`sources[0]`).
pub fn configured_public_key(
    source: &SourceConfig,
    prefix: &str,
) -> Result<Option<PublicKey>, SourceKeyError> {
    let fail = |field: &str, reason: String| SourceKeyError {
        field: format!("{prefix}.{field}"),
        reason,
    };
    if let Some(pem) = &source.public_key_pem {
        return PublicKey::from_pem(pem)
            .map(Some)
            .map_err(|e| fail("public_key_pem", format!("the key {e}")));
    }
    if let Some(path) = &source.public_key_file {
        let pem = std::fs::read_to_string(path).map_err(|e| {
            fail(
                "public_key_file",
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        return PublicKey::from_pem(&pem)
            .map(Some)
            .map_err(|e| fail("public_key_file", format!("{} {e}", path.display())));
    }
    Ok(None)
}

/// The label of the first `-----BEGIN <label>-----` line.
fn pem_label(pem: &str) -> Option<&str> {
    let start = pem.find("-----BEGIN ")? + "-----BEGIN ".len();
    let rest = &pem[start..];
    Some(&rest[..rest.find("-----")?])
}

/// The curve of an EC key, read from its SEC1 point (65/33 bytes for P-256, 97/49 for P-384).
fn ec_curve(key: &DecodingKey) -> Result<KeyKind, KeyError> {
    let point = key
        .try_get_as_bytes()
        .map_err(|_| KeyError::Invalid(KeyKind::EcP256))?;
    if p256::ecdsa::VerifyingKey::from_sec1_bytes(point).is_ok() {
        Ok(KeyKind::EcP256)
    } else if p384::ecdsa::VerifyingKey::from_sec1_bytes(point).is_ok() {
        Ok(KeyKind::EcP384)
    } else {
        Err(KeyError::Unsupported(
            "an EC key that is not a P-256 or P-384 point".into(),
        ))
    }
}

/// Parse the key material the way verification will, so a bad key fails at load.
fn check_material(kind: KeyKind, key: &DecodingKey) -> Result<(), KeyError> {
    let invalid = || KeyError::Invalid(kind);
    match (kind, key.kind()) {
        (KeyKind::Rsa, DecodingKeyKind::SecretOrDer(der)) => {
            let rsa = rsa::RsaPublicKey::from_pkcs1_der(der).map_err(|_| invalid())?;
            check_rsa_bits(rsa.size() * 8)
        }
        (KeyKind::Rsa, DecodingKeyKind::RsaModulusExponent { n, e }) => {
            let rsa = rsa::RsaPublicKey::new(
                rsa::BigUint::from_bytes_be(n),
                rsa::BigUint::from_bytes_be(e),
            )
            .map_err(|_| invalid())?;
            check_rsa_bits(rsa.size() * 8)
        }
        (KeyKind::EcP256, DecodingKeyKind::SecretOrDer(point)) => {
            p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| invalid())?;
            Ok(())
        }
        (KeyKind::EcP384, DecodingKeyKind::SecretOrDer(point)) => {
            p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| invalid())?;
            Ok(())
        }
        (KeyKind::Ed25519, DecodingKeyKind::SecretOrDer(bytes)) => {
            ed25519_dalek::VerifyingKey::try_from(bytes.as_slice()).map_err(|_| invalid())?;
            Ok(())
        }
        _ => Err(invalid()),
    }
}

fn check_rsa_bits(bits: usize) -> Result<(), KeyError> {
    if bits < MIN_RSA_BITS {
        Err(KeyError::WeakRsa(bits))
    } else {
        Ok(())
    }
}

/// The signature algorithm a JWK `alg` names (`None` for encryption or unknown algorithms).
fn jwk_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    use Algorithm as A;
    Some(match alg {
        KeyAlgorithm::RS256 => A::RS256,
        KeyAlgorithm::RS384 => A::RS384,
        KeyAlgorithm::RS512 => A::RS512,
        KeyAlgorithm::PS256 => A::PS256,
        KeyAlgorithm::PS384 => A::PS384,
        KeyAlgorithm::PS512 => A::PS512,
        KeyAlgorithm::ES256 => A::ES256,
        KeyAlgorithm::ES384 => A::ES384,
        KeyAlgorithm::EdDSA => A::EdDSA,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
