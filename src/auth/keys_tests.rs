use super::*;
use jsonwebtoken::{EncodingKey, Header, Validation, decode, encode};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/keys/", $name))
    };
}

const RSA_PUB: &str = fixture!("rsa_a.pub");
const RSA_PKCS1_PUB: &str = fixture!("rsa_a_pkcs1.pub");
const P256_PUB: &str = fixture!("p256_a.pub");
const P384_PUB: &str = fixture!("p384_a.pub");
const ED_PUB: &str = fixture!("ed25519_a.pub");

#[test]
fn pem_keys_parse_to_their_kind() {
    let cases: &[(&str, &str, Result<KeyKind, KeyError>)] = &[
        ("rsa spki", RSA_PUB, Ok(KeyKind::Rsa)),
        ("rsa pkcs1", RSA_PKCS1_PUB, Ok(KeyKind::Rsa)),
        ("p-256", P256_PUB, Ok(KeyKind::EcP256)),
        ("p-384", P384_PUB, Ok(KeyKind::EcP384)),
        ("ed25519", ED_PUB, Ok(KeyKind::Ed25519)),
        (
            "rsa 1024",
            fixture!("rsa_1024.pub"),
            Err(KeyError::WeakRsa(1024)),
        ),
        (
            "private key",
            fixture!("rsa_a.key"),
            Err(KeyError::NotPublicKey("PRIVATE KEY".into())),
        ),
        ("not pem", "hello", Err(KeyError::NotPem)),
    ];
    for (case, pem, expected) in cases {
        let got = PublicKey::from_pem(pem).map(|k| k.kind());
        assert_eq!(&got, expected, "{case}");
    }
}

#[test]
fn unsupported_and_broken_pem_keys_are_refused() {
    let truncated = RSA_PUB.replace("MIIBIjAN", "MIIBIjAA");
    let cases = [
        ("ed448", fixture!("ed448.pub").to_string()),
        ("p-521", fixture!("p521.pub").to_string()),
        ("corrupt rsa", truncated),
    ];
    for (case, pem) in cases {
        assert!(PublicKey::from_pem(&pem).is_err(), "{case}");
    }
}

#[test]
fn algorithms_are_pinned_by_key_type() {
    use Algorithm::*;
    let all = [
        HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA,
    ];
    let cases: &[(&str, &[Algorithm])] = &[
        (RSA_PUB, &[RS256, RS384, RS512, PS256, PS384, PS512]),
        (P256_PUB, &[ES256]),
        (P384_PUB, &[ES384]),
        (ED_PUB, &[EdDSA]),
    ];
    for (pem, allowed) in cases {
        let key = PublicKey::from_pem(pem).unwrap();
        for alg in all {
            assert_eq!(key.accepts(alg), allowed.contains(&alg), "{alg:?}");
        }
    }
}

#[test]
fn hmac_with_the_public_key_pem_as_secret_does_not_verify() {
    let key = PublicKey::from_pem(RSA_PUB).unwrap();
    assert!(!key.accepts(Algorithm::HS256));
    let claims = serde_json::json!({"iss": "x", "exp": 4_000_000_000u64});
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(RSA_PUB.as_bytes()),
    )
    .unwrap();
    let validation = Validation::new(Algorithm::HS256);
    let got = decode::<serde_json::Value>(&forged, key.decoding_key(), &validation);
    assert!(got.is_err());
}

fn jwk(private_pem: &str, alg: Algorithm) -> Jwk {
    let key = match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(private_pem.as_bytes()),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(private_pem.as_bytes()),
        _ => EncodingKey::from_rsa_pem(private_pem.as_bytes()),
    };
    Jwk::from_encoding_key(&key.unwrap(), alg).unwrap()
}

#[test]
fn jwks_keys_parse_and_pin_their_alg() {
    let cases: &[(&str, Algorithm, KeyKind)] = &[
        (fixture!("rsa_a.key"), Algorithm::PS256, KeyKind::Rsa),
        (fixture!("p256_a.key"), Algorithm::ES256, KeyKind::EcP256),
        (fixture!("p384_a.key"), Algorithm::ES384, KeyKind::EcP384),
        (
            fixture!("ed25519_a.key"),
            Algorithm::EdDSA,
            KeyKind::Ed25519,
        ),
    ];
    for (pem, alg, kind) in cases {
        let key = PublicKey::from_jwk(&jwk(pem, *alg)).unwrap();
        assert_eq!(key.kind(), *kind);
        assert!(key.accepts(*alg), "{alg:?}");
        // The JWK's alg narrows the key type's list to that one algorithm.
        if *kind == KeyKind::Rsa {
            assert!(!key.accepts(Algorithm::RS256));
        }
    }
}

#[test]
fn unusable_jwks_keys_are_refused() {
    let mut wrong_alg = jwk(fixture!("rsa_a.key"), Algorithm::RS256);
    wrong_alg.common.key_algorithm = Some(KeyAlgorithm::ES256);
    let mut encryption = jwk(fixture!("rsa_a.key"), Algorithm::RS256);
    encryption.common.public_key_use = Some(PublicKeyUse::Encryption);
    let mut hs = jwk(fixture!("rsa_a.key"), Algorithm::RS256);
    hs.common.key_algorithm = Some(KeyAlgorithm::HS256);
    let oct: Jwk =
        serde_json::from_value(serde_json::json!({"kty": "oct", "k": "c2VjcmV0"})).unwrap();
    let bad_point: Jwk = serde_json::from_value(serde_json::json!({
        "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"
    }))
    .unwrap();
    let cases = [
        ("alg of another type", wrong_alg),
        ("use enc", encryption),
        ("HS alg on an RSA key", hs),
        ("oct", oct),
        ("point not on the curve", bad_point),
    ];
    for (case, jwk) in cases {
        assert!(PublicKey::from_jwk(&jwk).is_err(), "{case}");
    }
}

#[test]
fn configured_keys_name_the_field() {
    let mut source: SourceConfig =
        toml::from_str("id = 's'\ntenant = 't'\npublic_key_file = '/nonexistent/key.pem'").unwrap();
    let err = configured_public_key(&source, "sources[3]").err().unwrap();
    assert_eq!(err.field, "sources[3].public_key_file");
    assert!(
        err.reason.contains("/nonexistent/key.pem"),
        "{}",
        err.reason
    );
    source.public_key_file = None;
    source.public_key_pem = Some("garbage".into());
    let err = configured_public_key(&source, "sources[0]").err().unwrap();
    assert_eq!(
        err.to_string(),
        "key `sources[0].public_key_pem`: the key is not a PEM block (want -----BEGIN PUBLIC KEY-----)"
    );
    source.public_key_pem = Some(ED_PUB.into());
    assert!(
        configured_public_key(&source, "sources[0]")
            .unwrap()
            .is_some()
    );
}
