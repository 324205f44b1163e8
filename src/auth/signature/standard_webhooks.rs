//! Standard Webhooks (also Svix): `webhook-id`, `webhook-timestamp` (seconds) and
//! `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>` over
//! `{id}.{timestamp}.{body}`, keyed by the base64-decoded secret after `whsec_`.

use super::{
    NO_MATCH, Policy, SignatureError, SignedRequest, any_matches, base64_sig, fresh_timestamp,
    reject,
};
use crate::config::standard_webhooks_key as key;

/// The headers, under their `webhook-` names or Svix's `svix-` names.
fn pick<'r>(req: &'r SignedRequest<'_>, suffix: &str) -> Result<&'r str, SignatureError> {
    ["webhook-", "svix-"]
        .iter()
        .find_map(|prefix| req.headers.get(format!("{prefix}{suffix}")))
        .ok_or_else(|| reject(format!("the webhook-{suffix} header is missing")))?
        .to_str()
        .map_err(|_| reject(format!("the webhook-{suffix} header is malformed")))
}

pub(super) fn verify(
    req: &SignedRequest<'_>,
    policy: &Policy<'_>,
) -> Result<Option<String>, SignatureError> {
    let id = pick(req, "id")?;
    let ts = pick(req, "timestamp")?;
    let header = pick(req, "signature")?;
    fresh_timestamp(ts, 1000, policy)?;
    let given: Vec<Vec<u8>> = header
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .map(base64_sig)
        .filter(|sig| !sig.is_empty())
        .collect();
    if given.is_empty() {
        return Err(reject("the webhook-signature header has no v1 signature"));
    }
    let keys: Vec<Vec<u8>> = policy.secrets.iter().filter_map(key).collect();
    let parts: [&[u8]; 5] = [id.as_bytes(), b".", ts.as_bytes(), b".", req.body];
    if any_matches(&keys, &parts, &given) {
        Ok(Some(id.to_string()))
    } else {
        Err(reject(NO_MATCH))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    const S1: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID1: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const BODY1: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const SIG1: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
    const S2: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID2: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const BODY2: &[u8] = br#"{"test": 2432232314}"#;
    const SIG2: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    /// secret, id, timestamp, signature header, body, now (seconds).
    type Case<'a> = (&'a str, &'a str, i64, &'a str, &'a [u8], i64);

    fn check(
        secret: &str,
        id: &str,
        ts: i64,
        sig: &str,
        body: &[u8],
        now_s: i64,
    ) -> Result<Option<String>, SignatureError> {
        let h = headers(&[
            ("webhook-id", id),
            ("webhook-timestamp", &ts.to_string()),
            ("webhook-signature", sig),
        ]);
        let secrets = secrets(&[secret]);
        verify(&request(&h, body), &policy(&secrets, now_s * 1000))
    }

    #[test]
    fn published_vectors_verify() {
        let ok = check(S1, ID1, 1649367553, SIG1, BODY1, 1649367553).unwrap();
        assert_eq!(ok.as_deref(), Some(ID1));
        assert!(check(S2, ID2, 1614265330, SIG2, BODY2, 1614265330).is_ok());
        // Any one entry of the list verifies.
        let list = format!("v1,bm9wZQ== v2,abc {SIG1}");
        assert!(check(S1, ID1, 1649367553, &list, BODY1, 1649367553).is_ok());
    }

    #[test]
    fn rejections() {
        let truncated = &SIG1[..SIG1.len() - 4];
        let cases: [Case; 8] = [
            (S1, ID1, 1649367553, "v1,", BODY1, 1649367553),
            (S1, ID1, 1649367553, truncated, BODY1, 1649367553),
            (S2, ID1, 1649367553, SIG1, BODY1, 1649367553),
            (S1, ID2, 1649367553, SIG1, BODY1, 1649367553),
            (S1, ID1, 1649367553, SIG1, BODY2, 1649367553),
            (S1, ID1, 1649367553, SIG1, BODY1, 1649367553 + 301),
            (S1, ID1, 1649367553, SIG1, BODY1, 1649367553 - 301),
            (
                S1,
                ID1,
                1649367553,
                "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
                BODY1,
                1649367553,
            ),
        ];
        for (i, (secret, id, ts, sig, body, now)) in cases.into_iter().enumerate() {
            assert!(check(secret, id, ts, sig, body, now).is_err(), "case {i}");
        }
    }

    #[test]
    fn svix_headers_and_rotation() {
        let h = headers(&[
            ("svix-id", ID1),
            ("svix-timestamp", "1649367553"),
            ("svix-signature", SIG1),
        ]);
        let secrets = secrets(&[S2, S1]);
        let ok = verify(&request(&h, BODY1), &policy(&secrets, 1649367553 * 1000));
        assert_eq!(ok.unwrap().as_deref(), Some(ID1));
    }
}
