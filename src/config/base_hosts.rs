//! Which Jira sites may install the app: `connect.allowed_base_hosts`.
//!
//! The bridge signs JSM calls with an installation's sharedSecret and sends them to its
//! `baseUrl`, so a `baseUrl` is where signed customer data goes. Patterns are host names,
//! compared without case: `acme.example.com` matches that host only, `*.atlassian.net`
//! matches any subdomain of `atlassian.net` (not `atlassian.net` itself). Loopback hosts
//! (127.0.0.0/8, ::1, localhost) are always allowed, for local development and tests.

use url::Url;

/// The default allowed hosts: Atlassian's cloud domains.
pub fn default_allowed() -> Vec<String> {
    ["*.atlassian.net", "*.jira.com", "*.jira-dev.com"]
        .map(String::from)
        .to_vec()
}

/// A pattern is a host name, optionally preceded by `*.`.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let host = pattern.strip_prefix("*.").unwrap_or(pattern);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if host.len() <= 253 && host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!(
            "{pattern:?} is not a host name or `*.` followed by one"
        ))
    }
}

/// Whether `url`'s host is loopback or matches one of `patterns`.
pub fn is_allowed(url: &Url, patterns: &[String]) -> bool {
    if super::validate::is_loopback(url) {
        return true;
    }
    let Some(url::Host::Domain(host)) = url.host() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    patterns.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(parent) => host
                .strip_suffix(parent)
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => host == pattern,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_patterns() {
        let defaults = default_allowed();
        let cases = [
            ("https://acme.atlassian.net", true),
            ("https://ACME.Atlassian.NET/jira", true),
            ("https://a.b.jira-dev.com", true),
            ("https://x.jira.com", true),
            ("https://atlassian.net", false),
            ("https://evilatlassian.net", false),
            ("https://acme.atlassian.net.evil.com", false),
            ("https://evil.com", false),
            ("https://203.0.113.9", false),
            ("http://127.0.0.1:8080", true),
            ("http://localhost:1", true),
            ("http://[::1]:2", true),
        ];
        for (url, want) in cases {
            assert_eq!(
                is_allowed(&Url::parse(url).unwrap(), &defaults),
                want,
                "{url}"
            );
        }
        let exact = vec!["jira.example.com".to_string()];
        assert!(is_allowed(
            &Url::parse("https://jira.example.com").unwrap(),
            &exact
        ));
        assert!(!is_allowed(
            &Url::parse("https://x.jira.example.com").unwrap(),
            &exact
        ));
        assert!(!is_allowed(
            &Url::parse("https://acme.atlassian.net").unwrap(),
            &[]
        ));
    }

    #[test]
    fn patterns_are_host_names() {
        for ok in [
            "*.atlassian.net",
            "jira.example.com",
            "*.a-b.io",
            "localhost",
        ] {
            assert_eq!(check_pattern(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "*",
            "*.",
            "**.x.com",
            "a.*.com",
            "https://x.com",
            "x..com",
            "-x.com",
            "x.com/",
        ] {
            assert!(check_pattern(bad).is_err(), "{bad}");
        }
    }
}
