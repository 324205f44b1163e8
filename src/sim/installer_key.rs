//! The simulator's install-signing key: an RSA key pair standing in for Atlassian's, whose
//! public half it serves as PEM at `GET /{kid}` (point `connect.install_keys_url` at the
//! simulator). One key per process, generated on first use: RSA generation is slow, and
//! every simulator of a test run can share it.

use std::sync::OnceLock;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

const BITS: usize = 2048;

/// An RSA key pair that signs install callbacks (RS256).
pub struct InstallerKey {
    kid: String,
    encoding: EncodingKey,
    public_pem: String,
}

static SHARED: OnceLock<Result<InstallerKey, String>> = OnceLock::new();

impl InstallerKey {
    /// A fresh key pair (slow: tests use it for "a key from another keypair").
    pub fn generate() -> Result<Self, String> {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, BITS)
            .map_err(|e| format!("cannot generate an RSA key: {e}"))?;
        let private_pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode the RSA key: {e}"))?;
        let public_pem = RsaPublicKey::from(&private)
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode the RSA public key: {e}"))?;
        let encoding = EncodingKey::from_rsa_pem(private_pem.as_bytes())
            .map_err(|e| format!("cannot load the RSA key: {e}"))?;
        let digest = Sha256::digest(public_pem.as_bytes());
        Ok(Self {
            kid: format!("jsm-sim-{}", hex::encode(&digest[..8])),
            encoding,
            public_pem,
        })
    }

    /// The process-wide key every simulator signs and serves.
    pub fn shared() -> Result<&'static InstallerKey, String> {
        SHARED
            .get_or_init(InstallerKey::generate)
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key, PEM (SubjectPublicKeyInfo), as Atlassian's key server serves it.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// An RS256 JWT of `claims` with this key's kid.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, String> {
        self.sign_as(claims, &self.kid)
    }

    /// An RS256 JWT of `claims` with this key but another `kid` header.
    pub fn sign_as(&self, claims: &impl Serialize, kid: &str) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_string());
        self.sign_with(header, claims)
    }

    /// A JWT of `claims` with this key under `header` (tests: a missing kid, another alg).
    pub fn sign_with(&self, header: Header, claims: &impl Serialize) -> Result<String, String> {
        encode(&header, claims, &self.encoding).map_err(|e| format!("cannot sign: {e}"))
    }
}
