//! Switches for the behaviours of JSM Cloud that SPEC §17 takes from Atlassian's published
//! OpenAPI documents (JSM `jsm.v3.json`, Jira platform swagger v3) and rate-limiting page.
//! Every switch defaults to what real JSM does; tests turn one off (or on) to produce a
//! failure the bridge must handle. Changed at run time through `POST /_sim/config`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The language JSM answers in when the call does not carry `requestLanguage=en-US`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimLanguage {
    #[default]
    En,
    De,
}

/// What one credential may do. Published fact (jsm.v3.json and swagger v3 descriptions):
/// the customer create needs *Jira Administrators* (`ADMINISTER`), user search *Browse users
/// and groups* (`USER_PICKER`), adding to a desk its admin, to an organization its desk admin
/// or agent (`desk_admin` stands for both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimPermissions {
    #[serde(default = "yes")]
    pub administer: bool,
    #[serde(default = "yes")]
    pub user_picker: bool,
    #[serde(default = "yes")]
    pub desk_admin: bool,
}

fn yes() -> bool {
    true
}

impl Default for SimPermissions {
    fn default() -> Self {
        Self {
            administer: true,
            user_picker: true,
            desk_admin: true,
        }
    }
}

/// The §17 switches.
#[derive(Clone, Debug, PartialEq)]
pub struct SimFacts {
    /// Messages in this language unless the call sends `requestLanguage=en-US`.
    pub language: SimLanguage,
    /// Existing service desk ids (or project keys); None = every id exists.
    pub service_desks: Option<Vec<String>>,
    /// Existing organization ids; None = every id exists.
    pub organizations: Option<Vec<String>>,
    /// Existing request type ids (in every existing desk); None = every id exists.
    pub request_types: Option<Vec<String>>,
    /// By credential identity (`*` = everyone else); a credential named nowhere may do all.
    pub permissions: BTreeMap<String, SimPermissions>,
    /// Seconds added to the `Date` header of JSM answers (a skewed JSM clock).
    pub clock_skew_secs: i64,
    /// `RateLimit-Reason` of the token bucket's 429s.
    pub rate_limit_reason: String,
    /// Off (real JSM): user search matches prefixes. On: substrings (the old simulator).
    pub substring_search: bool,
    /// Off (real JSM): user search shows active users only.
    pub include_inactive: bool,
    /// Off (real JSM): OAuth 2.0 tokens are refused at the site URL (401) and accepted only
    /// under `/ex/jira/{cloudId}`.
    pub oauth_at_site: bool,
}

impl Default for SimFacts {
    fn default() -> Self {
        Self {
            language: SimLanguage::En,
            service_desks: None,
            organizations: None,
            request_types: None,
            permissions: BTreeMap::new(),
            clock_skew_secs: 0,
            rate_limit_reason: "jira-burst-based".into(),
            substring_search: false,
            include_inactive: false,
            oauth_at_site: false,
        }
    }
}

impl SimFacts {
    /// The permissions of the credential `identity` (see `identity::Caller::key`).
    pub fn permissions_of(&self, identity: &str) -> SimPermissions {
        self.permissions
            .get(identity)
            .or_else(|| {
                self.permissions
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(identity))
                    .map(|(_, p)| p)
            })
            .or_else(|| self.permissions.get("*"))
            .copied()
            .unwrap_or_default()
    }

    /// Whether a desk with this id (or project key) exists.
    pub fn desk_exists(&self, id: &str) -> bool {
        known(&self.service_desks, id)
    }

    /// Whether a request type with this id exists (in any existing desk).
    pub fn request_type_exists(&self, id: &str) -> bool {
        known(&self.request_types, id)
    }

    /// Whether an organization with this id exists.
    pub fn organization_exists(&self, id: &str) -> bool {
        known(&self.organizations, id)
    }
}

fn known(set: &Option<Vec<String>>, id: &str) -> bool {
    set.as_ref()
        .is_none_or(|ids| ids.iter().any(|x| x.eq_ignore_ascii_case(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_fall_back_to_star_then_to_everything() {
        let mut facts = SimFacts::default();
        assert_eq!(facts.permissions_of("bot@x.com"), SimPermissions::default());
        let none = SimPermissions {
            administer: false,
            user_picker: false,
            desk_admin: false,
        };
        facts.permissions.insert("*".into(), none);
        let admin = SimPermissions {
            user_picker: false,
            ..SimPermissions::default()
        };
        facts.permissions.insert("Bot@X.com".into(), admin);
        assert_eq!(facts.permissions_of("bot@x.com"), admin);
        assert_eq!(facts.permissions_of("connect"), none);
    }

    #[test]
    fn id_sets_default_to_any_id() {
        let mut facts = SimFacts::default();
        assert!(facts.desk_exists("12") && facts.organization_exists("7"));
        facts.service_desks = Some(vec!["1".into(), "HELP".into()]);
        assert!(facts.desk_exists("help") && facts.desk_exists("1"));
        assert!(!facts.desk_exists("12"));
    }
}
