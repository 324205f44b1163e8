//! Typeform: `Typeform-Signature: sha256=<base64 HMAC-SHA256 of the body>`; no timestamp.

use super::{
    NO_MATCH, Policy, SignatureError, SignedRequest, any_matches, base64_sig, header, raw_keys,
    reject,
};

pub(super) fn verify(req: &SignedRequest<'_>, policy: &Policy<'_>) -> Result<(), SignatureError> {
    let value = header(req, "typeform-signature")?;
    let sig = value
        .strip_prefix("sha256=")
        .ok_or_else(|| reject("the Typeform-Signature header must start with sha256="))?;
    if any_matches(&raw_keys(policy), &[req.body], &[base64_sig(sig)]) {
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

    const SECRET: &str = "typeform-secret-0123";
    const BODY: &[u8] = br#"{"event_id":"01H","form_response":{"token":"t1"}}"#;

    #[test]
    fn accepts_and_rejects() {
        let good = b64(&mac(SECRET.as_bytes(), &[BODY]).finalize().into_bytes());
        let wrong = b64(&mac(b"other-secret-01234567", &[BODY])
            .finalize()
            .into_bytes());
        let cases = [
            (format!("sha256={good}"), BODY, true),
            (format!("sha256={wrong}"), BODY, false),
            (good.clone(), BODY, false),
            ("sha256=".to_string(), BODY, false),
            (format!("sha256={}", &good[..20]), BODY, false),
            (format!("sha256={good}"), &b"{}"[..], false),
        ];
        let secrets = secrets(&[SECRET]);
        for (i, (value, body, ok)) in cases.into_iter().enumerate() {
            let h = headers(&[("Typeform-Signature", &value)]);
            assert_eq!(
                verify(&request(&h, body), &policy(&secrets, 0)).is_ok(),
                ok,
                "case {i}"
            );
        }
        let none = headers(&[]);
        assert!(verify(&request(&none, BODY), &policy(&secrets, 0)).is_err());
    }
}
