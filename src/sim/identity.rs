//! Who a JSM call is made as, once its credentials are accepted: the key of the simulator's
//! per-credential permissions and the answer of `GET /rest/api/3/myself`.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The caller of an authenticated JSM request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// An API token login (Basic): an Atlassian account, by its email.
    Basic(String),
    /// A Connect app (JWT).
    Connect,
    /// A static bearer token (a 3LO access token acting as its user).
    Bearer(String),
    /// An access token issued by `/_sim/oauth/token` to this client id.
    OAuth(String),
    /// A Forge app system token.
    Forge,
}

impl Caller {
    /// The key of `permissions` in `POST /_sim/config`.
    pub(crate) fn key(&self) -> String {
        match self {
            Caller::Basic(email) => email.to_lowercase(),
            Caller::Connect => "connect".into(),
            Caller::Bearer(token) => format!("bearer:{token}"),
            Caller::OAuth(client) => format!("oauth:{client}"),
            Caller::Forge => "forge".into(),
        }
    }

    /// `GET /rest/api/3/myself` (swagger v3 `User`): an API token acts as its Atlassian
    /// account (`accountType: atlassian`, with its email); apps act as their app user
    /// (`accountType: app`, no email).
    pub(crate) fn myself(&self, base_url: &str) -> Value {
        let account_id = stable_account_id(&self.key());
        let mut user = json!({
            "self": format!("{base_url}/rest/api/3/user?accountId={account_id}"),
            "accountId": account_id,
            "active": true,
            "timeZone": "Etc/UTC",
            "locale": "en_US",
        });
        let (account_type, name) = match self {
            Caller::Basic(email) => {
                user["emailAddress"] = json!(email);
                (
                    "atlassian",
                    email.split('@').next().unwrap_or(email).to_string(),
                )
            }
            Caller::Bearer(_) => ("atlassian", "OAuth user".to_string()),
            Caller::Connect => ("app", "Connect app".to_string()),
            Caller::OAuth(client) => ("app", format!("OAuth app {client}")),
            Caller::Forge => ("app", "Forge app".to_string()),
        };
        user["accountType"] = json!(account_type);
        user["displayName"] = json!(name);
        user
    }
}

/// An Atlassian-looking account id derived from `seed` (same seed, same id).
fn stable_account_id(seed: &str) -> String {
    let digest = hex::encode(&Sha256::digest(seed.as_bytes())[..12]);
    format!("5b10ac8d82e05b22cc{digest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_account_types() {
        let cases = [
            (Caller::Basic("Bot@X.com".into()), "bot@x.com", "atlassian"),
            (Caller::Connect, "connect", "app"),
            (Caller::Bearer("t1".into()), "bearer:t1", "atlassian"),
            (Caller::OAuth("cid".into()), "oauth:cid", "app"),
            (Caller::Forge, "forge", "app"),
        ];
        for (caller, key, account_type) in cases {
            assert_eq!(caller.key(), key);
            let me = caller.myself("http://h");
            assert_eq!(me["accountType"], account_type, "{me}");
            assert_eq!(me["active"], true);
            assert!(me["accountId"].is_string() && me["displayName"].is_string());
            assert_eq!(me["emailAddress"].is_string(), key.contains('@'), "{me}");
        }
    }
}
