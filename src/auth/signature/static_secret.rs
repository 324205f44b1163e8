//! Static secrets: a configured header (Zapier, Make, HubSpot's API-key option, Tally custom
//! headers) or `?key=` in the query string (Mailchimp audience webhooks, which carry no
//! signature) equal to one of the source's secrets. The query string is never logged.

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use super::{Policy, SignatureError, SignedRequest, header, reject};

/// True when `given` equals any secret. Both sides are hashed first and the fixed-length
/// digests compared in constant time, so neither the time taken nor an early length mismatch
/// tells a guesser how long a secret is or how much of it was right; every secret is compared.
fn equals_a_secret(given: &[u8], policy: &Policy<'_>) -> bool {
    let given = Sha256::digest(given);
    policy.secrets.iter().fold(false, |found, secret| {
        let secret = Sha256::digest(secret.expose().as_bytes());
        found | bool::from(secret.ct_eq(&given))
    })
}

pub(super) fn verify_header(
    req: &SignedRequest<'_>,
    policy: &Policy<'_>,
) -> Result<(), SignatureError> {
    let name = policy
        .header
        .ok_or_else(|| reject("this source has no header configured"))?;
    let value = header(req, name)?;
    if equals_a_secret(value.trim().as_bytes(), policy) {
        Ok(())
    } else {
        Err(reject(format!(
            "the {name} header does not carry a valid secret"
        )))
    }
}

/// `key` from a raw query string (percent-decoded), checked against the secrets.
pub(super) fn verify_query(query: &str, policy: &Policy<'_>) -> Result<(), SignatureError> {
    let key = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "key")
        .map(|(_, value)| value)
        .ok_or_else(|| reject("the key query parameter is missing"))?;
    if equals_a_secret(key.as_bytes(), policy) {
        Ok(())
    } else {
        Err(reject("the key query parameter is not a valid secret"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    const SECRET: &str = "zapier-shared-secret";

    #[test]
    fn header_secret() {
        let secrets = secrets(&["old-secret-0123456789", SECRET]);
        let cases = [
            (vec![("X-Signup-Token", SECRET)], true),
            (vec![("x-signup-token", " zapier-shared-secret ")], true),
            (vec![("X-Signup-Token", "zapier-shared-secreT")], false),
            (vec![("X-Signup-Token", "zapier-shared-secre")], false),
            (vec![("X-Signup-Token", "")], false),
            (vec![("X-Other", SECRET)], false),
        ];
        for (i, (pairs, ok)) in cases.into_iter().enumerate() {
            let h = headers(&pairs);
            let policy = Policy {
                header: Some("X-Signup-Token"),
                ..policy(&secrets, 0)
            };
            assert_eq!(
                verify_header(&request(&h, b""), &policy).is_ok(),
                ok,
                "case {i}"
            );
        }
    }

    #[test]
    fn query_secret() {
        let secrets = secrets(&["mailchimp+key/0123456"]);
        let cases = [
            ("key=mailchimp%2Bkey%2F0123456", true),
            ("a=1&key=mailchimp%2Bkey%2F0123456", true),
            ("key=mailchimp+key/0123456", false),
            ("key=mailchimp%2Bkey%2F012345", false),
            ("KEY=mailchimp%2Bkey%2F0123456", false),
            ("", false),
        ];
        for (query, ok) in cases {
            assert_eq!(
                verify_query(query, &policy(&secrets, 0)).is_ok(),
                ok,
                "{query}"
            );
        }
    }
}
