//! Finding a person's signups by email the same way on both backends (`signups list --email`,
//! `signups erase --email`, the console's email filter).
//!
//! Uniqueness and fingerprints compare emails in Rust's Unicode lowercase
//! ([`crate::domain::Email::normalized`]). The `signups_email_lower` index holds `lower(email)`,
//! and the two `lower()`s differ: SQLite's folds ASCII letters only, PostgreSQL's folds by the
//! database's locale (all letters under a UTF-8 locale, ASCII only under `C`). So a search never
//! asks SQL to fold anything but ASCII: it lists every form the index can hold for the searched
//! person — ASCII lowercased, each other cased letter either lowercase or uppercase — and asks
//! `lower(email) IN (…)`, which both backends answer through the index, exactly, whatever their
//! locale. An email with more than [`MAX_CASED`] such letters (a Cyrillic or Greek address)
//! would need too many forms: its search is a `LIKE` scan with those letters as wildcards,
//! and the rows it returns are filtered in Rust ([`EmailMatch::accepts`]). docs/DECISIONS.md,
//! "Email search".

/// The most non-ASCII cased letters listed form by form (2^6 = 64 forms at most).
const MAX_CASED: usize = 6;

/// The SQL condition that finds the signups of one email, and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EmailMatch {
    folded: String,
    /// `lower(email) IN ($n, …)` or `lower(email) LIKE $n ESCAPE '\'`.
    sql: String,
    binds: Vec<String>,
}

/// The form emails are compared in: trimmed, Unicode lowercase.
pub(crate) fn fold(email: &str) -> String {
    email.trim().to_lowercase()
}

impl EmailMatch {
    /// The condition for `email` (any case) with its parameters numbered from `$first`.
    pub(crate) fn new(email: &str, first: usize) -> Self {
        let folded = fold(email);
        let chars: Vec<(char, Option<char>)> = folded.chars().map(|c| (c, upper_pair(c))).collect();
        let cased = chars.iter().filter(|(_, upper)| upper.is_some()).count();
        let (sql, binds) = if cased <= MAX_CASED {
            let forms = forms(&chars);
            let params: Vec<String> = (first..first + forms.len())
                .map(|n| format!("${n}"))
                .collect();
            (format!("lower(email) IN ({})", params.join(", ")), forms)
        } else {
            let pattern = chars
                .iter()
                .map(|&(c, upper)| match (c, upper) {
                    (_, Some(_)) => "_".to_string(),
                    ('%' | '_' | '\\', None) => format!("\\{c}"),
                    (c, None) => c.to_string(),
                })
                .collect();
            (
                format!("lower(email) LIKE ${first} ESCAPE '\\'"),
                vec![pattern],
            )
        };
        Self { folded, sql, binds }
    }

    /// The condition, to put in a `WHERE`.
    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }

    /// The parameters, in order from the `$first` given.
    pub(crate) fn binds(&self) -> &[String] {
        &self.binds
    }

    /// The number after the last parameter.
    pub(crate) fn next_param(&self, first: usize) -> usize {
        first + self.binds.len()
    }

    /// Whether a stored `email` the condition returned is the one searched (the `LIKE` scan may
    /// return another email with other letters where its wildcards are).
    pub(crate) fn accepts(&self, email: &str) -> bool {
        fold(email) == self.folded
    }
}

/// The uppercase letter of a non-ASCII lowercase letter, when the two are a one-to-one pair.
fn upper_pair(c: char) -> Option<char> {
    if c.is_ascii() {
        return None;
    }
    let mut upper = c.to_uppercase();
    let (Some(u), None) = (upper.next(), upper.next()) else {
        return None;
    };
    let back: String = u.to_lowercase().collect();
    (u != c && back.chars().eq(std::iter::once(c))).then_some(u)
}

/// Every form of the folded email with each paired letter lowercase or uppercase.
fn forms(chars: &[(char, Option<char>)]) -> Vec<String> {
    let mut forms = vec![String::new()];
    for &(c, upper) in chars {
        match upper {
            None => forms.iter_mut().for_each(|f| f.push(c)),
            Some(u) => {
                let mut with_upper = forms.clone();
                forms.iter_mut().for_each(|f| f.push(c));
                with_upper.iter_mut().for_each(|f| f.push(u));
                forms.extend(with_upper);
            }
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_one_form() {
        let m = EmailMatch::new("  Fred@Example.COM ", 3);
        assert_eq!(m.sql(), "lower(email) IN ($3)");
        assert_eq!(m.binds(), ["fred@example.com"]);
        assert_eq!(m.next_param(3), 4);
    }

    #[test]
    fn non_ascii_letters_list_both_cases() {
        let m = EmailMatch::new("ÉMILE@Exämple.com", 1);
        assert_eq!(m.sql(), "lower(email) IN ($1, $2, $3, $4)");
        let mut binds = m.binds().to_vec();
        binds.sort();
        let mut want = [
            "émile@exämple.com",
            "Émile@exämple.com",
            "émile@exÄmple.com",
            "Émile@exÄmple.com",
        ];
        want.sort();
        assert_eq!(binds, want);
        // What SQLite's index holds for any stored case is one of the forms.
        for stored in [
            "ÉMILE@EXÄMPLE.COM",
            "émile@exämple.com",
            "Émile@ExÄmple.com",
        ] {
            assert!(m.binds().contains(&stored.to_ascii_lowercase()), "{stored}");
            assert!(m.accepts(stored));
        }
        assert!(!m.accepts("emile@exämple.com"));
    }

    #[test]
    fn many_non_ascii_letters_scan_with_wildcards() {
        let m = EmailMatch::new("ДМИТРИЙ@ПОЧТА.РФ", 2);
        assert_eq!(m.sql(), "lower(email) LIKE $2 ESCAPE '\\'");
        assert_eq!(m.binds(), ["_______@_____.__"]);
        assert!(m.accepts("дмитрий@почта.рф"));
        assert!(!m.accepts("дмитрии@почта.рф"));
        let m = EmailMatch::new("a_b%ДМИТРИЙ@x.com", 1);
        assert_eq!(m.binds(), ["a\\_b\\%_______@x.com"]);
    }

    #[test]
    fn letters_without_a_plain_pair_match_as_folded() {
        // ß uppercases to "SS" (two letters): not a pair, so one form.
        assert_eq!(EmailMatch::new("straße@x.de", 1).binds(), ["straße@x.de"]);
    }
}
