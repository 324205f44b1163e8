//! Webflow: `x-webflow-timestamp` (milliseconds) and `x-webflow-signature`, hex HMAC-SHA256
//! over `{timestamp}:{body}`.

use super::{
    NO_MATCH, Policy, SignatureError, SignedRequest, any_matches, fresh_timestamp, header, hex_sig,
    raw_keys, reject,
};

pub(super) fn verify(req: &SignedRequest<'_>, policy: &Policy<'_>) -> Result<(), SignatureError> {
    let ts = header(req, "x-webflow-timestamp")?;
    let sig = hex_sig(header(req, "x-webflow-signature")?);
    fresh_timestamp(ts, 1, policy)?;
    let parts: [&[u8]; 3] = [ts.as_bytes(), b":", req.body];
    if any_matches(&raw_keys(policy), &parts, &[sig]) {
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

    const SECRET: &str = "webflow-client-secret";
    const BODY: &[u8] = br#"{"triggerType":"form_submission","payload":{"id":"p1"}}"#;
    const TS: i64 = 1_700_000_000_123;

    #[test]
    fn accepts_and_rejects() {
        let ts = TS.to_string();
        let good = hex::encode(
            mac(SECRET.as_bytes(), &[ts.as_bytes(), b":", BODY])
                .finalize()
                .into_bytes(),
        );
        let secs = hex::encode(
            mac(SECRET.as_bytes(), &[ts.as_bytes(), b".", BODY])
                .finalize()
                .into_bytes(),
        );
        let cases = [
            (ts.clone(), good.clone(), BODY, TS, true),
            (ts.clone(), good.clone(), BODY, TS + 299_000, true),
            (ts.clone(), good.clone(), BODY, TS + 301_000, false),
            (ts.clone(), good.clone(), BODY, TS - 301_000, false),
            (ts.clone(), secs, BODY, TS, false),
            (ts.clone(), good[..62].to_string(), BODY, TS, false),
            (
                ts.clone(),
                good.clone(),
                &br#"{"payload":{}}"#[..],
                TS,
                false,
            ),
            ("1700000000124".to_string(), good.clone(), BODY, TS, false),
            ("soon".to_string(), good.clone(), BODY, TS, false),
        ];
        let secrets = secrets(&[SECRET]);
        for (i, (ts, sig, body, now, ok)) in cases.into_iter().enumerate() {
            let h = headers(&[("x-webflow-timestamp", &ts), ("x-webflow-signature", &sig)]);
            assert_eq!(
                verify(&request(&h, body), &policy(&secrets, now)).is_ok(),
                ok,
                "case {i}"
            );
        }
    }
}
