//! A customer's display name, parsed once.
//!
//! Refused: control characters, and the invisible ones of Unicode's Cf (format: bidirectional
//! overrides, zero-width joiners, soft hyphens…), Zl and Zp (line and paragraph separators),
//! which can make a name in the help desk read other than it is stored. A leading `=`, `+`,
//! `-` or `@` is accepted and sent to JSM verbatim (docs/API.md): a name is no formula, and it
//! is the exporting tool's job to escape cells.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Trimmed, 1–255 characters, no control, format or separator characters.
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
        if name.chars().any(invisible) {
            return Err(
                "must not contain format or separator characters (Unicode Cf, Zl, Zp)".into(),
            );
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Unicode Cf, Zl or Zp.
fn invisible(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_separator_characters_are_refused_formula_leads_are_not() {
        for bad in [
            "Fred\u{202E}gnp.exe", // right-to-left override (Cf)
            "Fr\u{200B}ed",        // zero-width space (Cf)
            "Fr\u{00AD}ed",        // soft hyphen (Cf)
            "\u{FEFF}Fred",        // byte order mark (Cf)
            "Fred\u{2028}Flint",   // line separator (Zl)
            "Fred\u{2029}Flint",   // paragraph separator (Zp)
            "Fred\u{0085}Flint",   // next line (a control)
        ] {
            assert!(DisplayName::parse(bad).is_err(), "{bad:?}");
        }
        for verbatim in ["=SUM(A1)", "+1 Fred", "-Fred", "@Fred", "Zoë\u{00A0}Fred"] {
            assert_eq!(DisplayName::parse(verbatim).unwrap().as_str(), verbatim);
        }
    }

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
