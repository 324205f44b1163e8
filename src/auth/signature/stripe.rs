//! Stripe-style signatures (also Calendly's): `Stripe-Signature: t=<seconds>,v1=<hex>[,v1=…]`,
//! HMAC-SHA256 over `{t}.{body}` keyed by the secret string as is.

use super::{
    NO_MATCH, Policy, SignatureError, SignedRequest, any_matches, fresh_timestamp, hex_sig,
    raw_keys, reject,
};

const HEADERS: [&str; 2] = ["stripe-signature", "calendly-webhook-signature"];

pub(super) fn verify(req: &SignedRequest<'_>, policy: &Policy<'_>) -> Result<(), SignatureError> {
    let header = HEADERS
        .iter()
        .find_map(|name| req.headers.get(*name))
        .ok_or_else(|| reject("the Stripe-Signature header is missing"))?
        .to_str()
        .map_err(|_| reject("the Stripe-Signature header is malformed"))?;
    let mut ts = None;
    let mut given = Vec::new();
    for item in header.split(',') {
        match item.trim().split_once('=') {
            Some(("t", value)) => ts = Some(value),
            Some(("v1", value)) => given.push(hex_sig(value)),
            _ => {}
        }
    }
    let ts = ts.ok_or_else(|| reject("the Stripe-Signature header has no t="))?;
    given.retain(|sig| !sig.is_empty());
    if given.is_empty() {
        return Err(reject("the Stripe-Signature header has no v1 signature"));
    }
    fresh_timestamp(ts, 1000, policy)?;
    let parts: [&[u8]; 3] = [ts.as_bytes(), b".", req.body];
    if any_matches(&raw_keys(policy), &parts, &given) {
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

    const SECRET: &str = "whsec_stripe_test_0123456789";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"customer.created"}"#;

    fn sig(secret: &str, t: i64, body: &[u8]) -> String {
        let t = t.to_string();
        hex::encode(
            mac(secret.as_bytes(), &[t.as_bytes(), b".", body])
                .finalize()
                .into_bytes(),
        )
    }

    fn check(name: &str, header: &str, body: &[u8], now_s: i64) -> bool {
        let h = headers(&[(name, header)]);
        let secrets = secrets(&["another-secret-0000000", SECRET]);
        verify(&request(&h, body), &policy(&secrets, now_s * 1000)).is_ok()
    }

    #[test]
    fn accepts_and_rejects() {
        let good = sig(SECRET, 1_700_000_000, BODY);
        let wrong = sig("wrong-secret-000000000", 1_700_000_000, BODY);
        let cases = [
            (
                "stripe-signature",
                format!("t=1700000000,v1={good}"),
                BODY,
                1_700_000_000,
                true,
            ),
            (
                "calendly-webhook-signature",
                format!("t=1700000000,v1={good}"),
                BODY,
                1_700_000_100,
                true,
            ),
            (
                "stripe-signature",
                format!("t=1700000000,v1={wrong},v1={good}"),
                BODY,
                1_700_000_000,
                true,
            ),
            (
                "stripe-signature",
                format!("t=1700000000,v1={wrong}"),
                BODY,
                1_700_000_000,
                false,
            ),
            (
                "stripe-signature",
                format!("t=1700000000,v1={}", &good[..60]),
                BODY,
                1_700_000_000,
                false,
            ),
            (
                "stripe-signature",
                "t=1700000000,v1=".to_string(),
                BODY,
                1_700_000_000,
                false,
            ),
            (
                "stripe-signature",
                format!("v1={good}"),
                BODY,
                1_700_000_000,
                false,
            ),
            (
                "stripe-signature",
                format!("t=1700000000,v1={good}"),
                b"{}",
                1_700_000_000,
                false,
            ),
            (
                "stripe-signature",
                format!("t=1700000000,v1={good}"),
                BODY,
                1_700_000_301,
                false,
            ),
            (
                "stripe-signature",
                format!("t=1700000000,v1={good}"),
                BODY,
                1_699_999_699,
                false,
            ),
            (
                "other-header",
                format!("t=1700000000,v1={good}"),
                BODY,
                1_700_000_000,
                false,
            ),
        ];
        for (i, (name, header, body, now, ok)) in cases.into_iter().enumerate() {
            assert_eq!(check(name, &header, body, now), ok, "case {i}");
        }
    }
}
