//! A signup's email address, parsed once.

/// An email address as docs/API.md accepts it: trimmed, at most 254 characters, one `@`, a non-empty
/// local part, a domain with a dot, no whitespace or control characters. Case is preserved;
/// uniqueness uses [`Email::normalized`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim();
        if email.is_empty() {
            return Err("is required".into());
        }
        if email.chars().count() > 254 {
            return Err("must be at most 254 characters".into());
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain whitespace or control characters".into());
        }
        let mut parts = email.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err("must contain exactly one @".into());
        };
        if local.is_empty() {
            return Err("needs a part before the @".into());
        }
        let labels_ok = domain.split('.').all(|l| !l.is_empty());
        if !domain.contains('.') || !labels_ok {
            return Err("needs a domain with a dot after the @, like example.com".into());
        }
        Ok(Self(email.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercase form used for uniqueness and the fingerprint.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    /// The part before the `@`, the last fallback for a display name.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

/// `f***@example.com`: the form emails take in logs.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Mask every email-looking word in a free text (JSM error messages quote the email).
pub fn mask_emails_in(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            let core = trimmed.trim_matches(|c: char| "\"'()<>,;:[]".contains(c));
            if core.contains('@') && core.len() > 1 {
                word.replacen(core, &mask_email(core), 1)
            } else {
                word.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_trims() {
        let cases = [
            ("fred@example.com", "fred@example.com"),
            ("  Fred@Example.COM \n", "Fred@Example.COM"),
            ("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"),
        ];
        for (raw, want) in cases {
            assert_eq!(Email::parse(raw).unwrap().as_str(), want, "{raw:?}");
        }
    }

    #[test]
    fn rejects() {
        let long = format!("{}@example.com", "a".repeat(250));
        let cases = [
            "",
            "   ",
            "fred",
            "fred@@example.com",
            "fred@bar@example.com",
            "@example.com",
            "fred@localhost",
            "fred@example.",
            "fr ed@example.com",
            "fred@exa\tmple.com",
            "fred\u{7}@example.com",
            long.as_str(),
        ];
        for raw in cases {
            assert!(Email::parse(raw).is_err(), "{raw:?} should be rejected");
        }
    }

    #[test]
    fn masks() {
        assert_eq!(mask_email("fred@example.com"), "f***@example.com");
        assert_eq!(mask_email("nonsense"), "***");
        assert_eq!(
            mask_emails_in("An account already exists for 'fred@example.com'."),
            "An account already exists for 'f***@example.com'."
        );
    }
}
