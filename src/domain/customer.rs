//! What a sender may learn about an `existing` customer: only its `accountId`, plus the email
//! and display name when they equal the signup's own (the sender knows those already). JSM's
//! user search answers with the whole profile — avatars, time zone, locale — of a user the
//! sender did not create, and none of that is theirs to see or ours to keep.

use serde_json::{Map, Value};

/// The part of JSM's user record an `existing` signup records and shows; `None` without an
/// `accountId` (nothing to name the customer by).
pub fn existing_customer(user: &Value, email: &str, display_name: &str) -> Option<Value> {
    let account_id = user.get("accountId")?.as_str()?;
    let mut kept = Map::new();
    kept.insert("accountId".into(), account_id.into());
    if let Some(shown) = user.get("emailAddress").and_then(Value::as_str)
        && shown.eq_ignore_ascii_case(email)
    {
        kept.insert("emailAddress".into(), shown.into());
    }
    if let Some(shown) = user.get("displayName").and_then(Value::as_str)
        && shown == display_name
    {
        kept.insert("displayName".into(), shown.into());
    }
    Some(Value::Object(kept))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_what_the_sender_knows_is_kept() {
        let full = json!({
            "accountId": "qm:1", "emailAddress": "Fred@Example.com", "displayName": "Fred",
            "active": true, "timeZone": "Europe/Paris", "locale": "fr_FR",
            "avatarUrls": {"48x48": "https://avatar"}, "self": "https://x/user?accountId=qm:1",
        });
        let cases = [
            (
                "fred@example.com",
                "Fred",
                json!({"accountId": "qm:1", "emailAddress": "Fred@Example.com", "displayName": "Fred"}),
            ),
            (
                "fred@example.com",
                "fred",
                json!({"accountId": "qm:1", "emailAddress": "Fred@Example.com"}),
            ),
            (
                "other@example.com",
                "Fred",
                json!({"accountId": "qm:1", "displayName": "Fred"}),
            ),
            ("other@example.com", "Other", json!({"accountId": "qm:1"})),
        ];
        for (email, name, want) in cases {
            assert_eq!(
                existing_customer(&full, email, name),
                Some(want),
                "{email} {name}"
            );
        }
        assert_eq!(
            existing_customer(&json!({"displayName": "Fred"}), "f@x.io", "Fred"),
            None
        );
        assert_eq!(
            existing_customer(&json!({"accountId": 7}), "f@x.io", "Fred"),
            None
        );
    }
}
