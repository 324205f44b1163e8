//! Who may sign up, and which organizations a domain joins: the per-source email-domain
//! policy and the domain rules of docs/INTEGRATIONS.md.
//!
//! A pattern is a domain (`acme.com`, that domain only) or `*.` followed by one (`*.acme.com`,
//! any subdomain of it, not `acme.com` itself), compared without case. When several patterns
//! match, the most specific wins: more labels first, then an exact domain over a wildcard.

use std::collections::HashSet;
use std::sync::OnceLock;

/// How specific `pattern` is for `domain` (higher is more specific), or `None` when it does not
/// match. `domain` must be lowercase.
pub fn specificity(pattern: &str, domain: &str) -> Option<(usize, bool)> {
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(parent) => domain
            .strip_suffix(parent)
            .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
            .then(|| (parent.split('.').count(), false)),
        None => (domain == pattern).then(|| (pattern.split('.').count(), true)),
    }
}

/// The lowercase domain of an email address (what follows its last `@`).
pub fn domain_of(email: &str) -> String {
    email
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Why an email's domain may not sign up through a source; the `reason` metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainRefusal {
    /// The source has `allowed_email_domains` and none matches.
    NotAllowed,
    /// A `blocked_email_domains` pattern matches.
    Blocked,
    /// `block_disposable_email` is on and the domain is a known disposable-mail provider.
    Disposable,
}

impl DomainRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAllowed => "not_allowed",
            Self::Blocked => "blocked",
            Self::Disposable => "disposable",
        }
    }
}

/// A source's email-domain policy, as configured.
#[derive(Debug, Clone, Copy)]
pub struct DomainPolicy<'a> {
    pub allowed: &'a [String],
    pub blocked: &'a [String],
    pub block_disposable: bool,
}

impl DomainPolicy<'_> {
    /// Whether an address at `domain` (lowercase) may sign up. A block wins over an allow; a
    /// domain the allow-list names explicitly is trusted even if it is on the disposable list
    /// (the operator said so).
    pub fn check(&self, domain: &str) -> Result<(), DomainRefusal> {
        let matches =
            |patterns: &[String]| patterns.iter().any(|p| specificity(p, domain).is_some());
        if matches(self.blocked) {
            return Err(DomainRefusal::Blocked);
        }
        if !self.allowed.is_empty() {
            return match matches(self.allowed) {
                true => Ok(()),
                false => Err(DomainRefusal::NotAllowed),
            };
        }
        if self.block_disposable && is_disposable(domain) {
            return Err(DomainRefusal::Disposable);
        }
        Ok(())
    }
}

/// Whether `domain` (lowercase) or any domain above it is a disposable-mail provider, by the
/// list the `mailchecker` crate maintains (updated with `cargo update -p mailchecker`).
pub fn is_disposable(domain: &str) -> bool {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let list = LIST.get_or_init(|| mailchecker::blacklist().into_iter().collect());
    let mut rest = domain;
    loop {
        if list.contains(rest) {
            return true;
        }
        match rest.split_once('.') {
            Some((_, parent)) if parent.contains('.') => rest = parent,
            _ => return false,
        }
    }
}

/// The rule of `rules` that is most specific for `domain` (lowercase), if any matches.
pub fn most_specific<'r, R>(
    rules: &'r [R],
    domain: &str,
    pattern: impl Fn(&R) -> &str,
) -> Option<&'r R> {
    rules
        .iter()
        .filter_map(|r| specificity(pattern(r), domain).map(|s| (s, r)))
        .max_by_key(|(s, _)| *s)
        .map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn patterns_match_domains() {
        let cases = [
            ("acme.com", "acme.com", Some((2, true))),
            ("ACME.com", "acme.com", Some((2, true))),
            ("acme.com", "eu.acme.com", None),
            ("*.acme.com", "eu.acme.com", Some((2, false))),
            ("*.acme.com", "a.b.acme.com", Some((2, false))),
            ("*.acme.com", "acme.com", None),
            ("*.acme.com", "evilacme.com", None),
            ("acme.com", "notacme.com", None),
        ];
        for (pattern, domain, want) in cases {
            assert_eq!(specificity(pattern, domain), want, "{pattern} vs {domain}");
        }
    }

    #[test]
    fn policies_refuse_by_reason() {
        let allowed = strings(&["acme.com", "*.partner.io", "mailinator.com"]);
        let blocked = strings(&["*.acme.com", "bad.partner.io"]);
        let none: Vec<String> = Vec::new();
        let with = |allowed: &[String], blocked: &[String], disposable: bool, domain: &str| {
            DomainPolicy {
                allowed,
                blocked,
                block_disposable: disposable,
            }
            .check(domain)
        };
        let cases = [
            (&allowed, &blocked, false, "acme.com", Ok(())),
            (
                &allowed,
                &blocked,
                false,
                "eu.acme.com",
                Err(DomainRefusal::Blocked),
            ),
            (&allowed, &blocked, false, "x.partner.io", Ok(())),
            (
                &allowed,
                &blocked,
                false,
                "bad.partner.io",
                Err(DomainRefusal::Blocked),
            ),
            (
                &allowed,
                &blocked,
                false,
                "other.org",
                Err(DomainRefusal::NotAllowed),
            ),
            (&none, &none, false, "mailinator.com", Ok(())),
            (
                &none,
                &none,
                true,
                "mailinator.com",
                Err(DomainRefusal::Disposable),
            ),
            (
                &none,
                &none,
                true,
                "x.mailinator.com",
                Err(DomainRefusal::Disposable),
            ),
            (&none, &none, true, "gmail.com", Ok(())),
            // Named by the allow-list: trusted although disposable.
            (&allowed, &none, true, "mailinator.com", Ok(())),
        ];
        for (allowed, blocked, disposable, domain, want) in cases {
            assert_eq!(with(allowed, blocked, disposable, domain), want, "{domain}");
        }
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rules = [
            ("*.acme.com", 1),
            ("acme.com", 2),
            ("*.eu.acme.com", 3),
            ("eu.acme.com", 4),
        ];
        let pick = |d: &str| most_specific(&rules, d, |r| r.0).map(|r| r.1);
        assert_eq!(pick("acme.com"), Some(2));
        assert_eq!(pick("us.acme.com"), Some(1));
        assert_eq!(pick("eu.acme.com"), Some(4));
        assert_eq!(pick("x.eu.acme.com"), Some(3));
        assert_eq!(pick("other.com"), None);
    }

    #[test]
    fn domains_are_lowercased() {
        assert_eq!(domain_of("Ann@ACME.com"), "acme.com");
    }
}
