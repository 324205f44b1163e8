//! Tally: `Tally-Signature: <base64 HMAC-SHA256 of the body>`; no timestamp.

use super::{
    NO_MATCH, Policy, SignatureError, SignedRequest, any_matches, base64_sig, header, raw_keys,
    reject,
};

pub(super) fn verify(req: &SignedRequest<'_>, policy: &Policy<'_>) -> Result<(), SignatureError> {
    let sig = base64_sig(header(req, "tally-signature")?);
    if any_matches(&raw_keys(policy), &[req.body], &[sig]) {
        Ok(())
    } else {
        Err(reject(NO_MATCH))
    }
}

#[cfg(test)]
mod tests {
    use super::super::mac;
    use super::super::testing::*;
    use super::*;
    use hmac::Mac;

    const SECRET: &str = "tally-signing-secret";
    const BODY: &[u8] = br#"{"eventId":"e1","data":{"responseId":"r1"}}"#;

    #[test]
    fn accepts_and_rejects() {
        let good = b64(&mac(SECRET.as_bytes(), &[BODY]).finalize().into_bytes());
        let wrong = b64(&mac(b"other-secret-01234567", &[BODY])
            .finalize()
            .into_bytes());
        let cases = [
            (good.clone(), BODY, true),
            (wrong, BODY, false),
            (format!("sha256={good}"), BODY, false),
            (good[..good.len() - 2].to_string(), BODY, false),
            (good.clone(), &b"{ }"[..], false),
        ];
        let secrets = secrets(&["rotated-out-secret-000", SECRET]);
        for (i, (value, body, ok)) in cases.into_iter().enumerate() {
            let h = headers(&[("Tally-Signature", &value)]);
            assert_eq!(
                verify(&request(&h, body), &policy(&secrets, 0)).is_ok(),
                ok,
                "case {i}"
            );
        }
    }
}
