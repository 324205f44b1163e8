//! The `jsm-sim` flags for the SPEC §17 switches (see `facts`): each defaults to what real JSM
//! does.

use super::facts::{SimFacts, SimLanguage, SimPermissions};

/// Flags of `signup-bridge jsm-sim` for the §17 switches.
#[derive(clap::Args, Clone)]
pub struct FactsArgs {
    /// Language of JSM's messages when a call does not send requestLanguage=en-US (en, de).
    #[arg(long, value_parser = parse_language, default_value = "en")]
    pub language: SimLanguage,
    /// An existing service desk id (repeatable); given, every other id answers 404.
    #[arg(long = "service-desk", value_name = "ID")]
    pub service_desks: Vec<String>,
    /// An existing organization id (repeatable); given, every other id answers 404.
    #[arg(long = "organization", value_name = "ID")]
    pub organizations: Vec<String>,
    /// An existing request type id, in every existing desk (repeatable); given, every other
    /// id is refused.
    #[arg(long = "request-type", value_name = "ID")]
    pub request_types: Vec<String>,
    /// What a credential may do, IDENTITY:administer,user-picker,desk-admin or IDENTITY:none
    /// (repeatable; IDENTITY is `*`, the basic email, connect, bearer:TOKEN, oauth:CLIENT_ID
    /// or forge). Unnamed credentials may do everything.
    #[arg(long = "permissions", value_name = "IDENTITY:LIST", value_parser = parse_permissions)]
    pub permissions: Vec<(String, SimPermissions)>,
    /// Seconds added to the Date header of JSM answers (negative: behind).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub clock_skew: i64,
    /// RateLimit-Reason of the token bucket's 429s.
    #[arg(long, default_value = "jira-burst-based")]
    pub rate_limit_reason: String,
    /// User search matches substrings (real JSM: prefixes).
    #[arg(long)]
    pub substring_search: bool,
    /// User search shows inactive users too (real JSM: active only).
    #[arg(long)]
    pub include_inactive: bool,
    /// Accept OAuth tokens at the site URL too (real JSM: only under /ex/jira/{cloudId}).
    #[arg(long)]
    pub oauth_at_site: bool,
}

impl FactsArgs {
    /// The §17 switches these flags describe.
    pub fn facts(&self) -> SimFacts {
        let set = |ids: &Vec<String>| (!ids.is_empty()).then(|| ids.clone());
        SimFacts {
            language: self.language,
            service_desks: set(&self.service_desks),
            organizations: set(&self.organizations),
            request_types: set(&self.request_types),
            permissions: self.permissions.iter().cloned().collect(),
            clock_skew_secs: self.clock_skew,
            rate_limit_reason: self.rate_limit_reason.clone(),
            substring_search: self.substring_search,
            include_inactive: self.include_inactive,
            oauth_at_site: self.oauth_at_site,
        }
    }
}

fn parse_language(value: &str) -> Result<SimLanguage, String> {
    match value.to_ascii_lowercase().as_str() {
        "en" => Ok(SimLanguage::En),
        "de" => Ok(SimLanguage::De),
        _ => Err("expected en or de".into()),
    }
}

fn parse_permissions(value: &str) -> Result<(String, SimPermissions), String> {
    let (identity, list) = value
        .rsplit_once(':')
        .filter(|(identity, _)| !identity.is_empty())
        .ok_or("expected IDENTITY:LIST")?;
    let mut granted = SimPermissions {
        administer: false,
        user_picker: false,
        desk_admin: false,
    };
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item {
            "none" => {}
            "administer" => granted.administer = true,
            "user-picker" => granted.user_picker = true,
            "desk-admin" => granted.desk_admin = true,
            other => {
                return Err(format!(
                    "unknown permission {other:?} (administer, user-picker, desk-admin, none)"
                ));
            }
        }
    }
    Ok((identity.to_string(), granted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: super::super::SimArgs,
    }

    #[test]
    fn section_17_flags_become_switches() {
        let cli = Cli::try_parse_from([
            "jsm-sim",
            "--language=de",
            "--service-desk=12",
            "--service-desk=HELP",
            "--organization=7",
            "--permissions=*:none",
            "--permissions=bot@acme.com:administer,desk-admin",
            "--permissions=oauth:cid:user-picker",
            "--clock-skew=-45",
            "--rate-limit-reason=jira-quota-tenant-based",
            "--substring-search",
        ])
        .expect("valid flags");
        let facts = cli.sim.config().facts;
        assert_eq!(facts.language, SimLanguage::De);
        assert_eq!(facts.service_desks, Some(vec!["12".into(), "HELP".into()]));
        assert_eq!(facts.organizations, Some(vec!["7".into()]));
        assert_eq!(facts.clock_skew_secs, -45);
        assert_eq!(facts.rate_limit_reason, "jira-quota-tenant-based");
        assert!(facts.substring_search && !facts.include_inactive);
        let bot = facts.permissions_of("bot@acme.com");
        assert!(bot.administer && bot.desk_admin && !bot.user_picker);
        let oauth = facts.permissions_of("oauth:cid");
        assert!(oauth.user_picker && !oauth.administer);
        assert!(!facts.permissions_of("connect").administer);
        assert!(Cli::try_parse_from(["jsm-sim", "--permissions=x:root"]).is_err());
        assert!(Cli::try_parse_from(["jsm-sim", "--language=fr"]).is_err());
    }
}
