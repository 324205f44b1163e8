//! A customer's display name, parsed once.

/// Trimmed, 1–255 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("must not be blank".into());
        }
        if name.chars().count() > 255 {
            return Err("must be at most 255 characters".into());
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(DisplayName::parse("  Fred  ").unwrap().as_str(), "Fred");
        assert_eq!(DisplayName::parse("Zoë 山田").unwrap().as_str(), "Zoë 山田");
        assert!(DisplayName::parse(&"x".repeat(255)).is_ok());
        assert!(DisplayName::parse(&"x".repeat(256)).is_err());
        assert!(DisplayName::parse("Fred\nFlint").is_err());
        assert!(DisplayName::parse("   ").is_err());
    }
}
