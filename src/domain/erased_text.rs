//! What an erase leaves of the texts failed runs wrote (a signup's `last_error_detail`, the
//! details of its run history): JSM's words and the bridge's stay — the step, the HTTP status,
//! what went wrong — and everything of the person is replaced by `[erased]`.
//!
//! The person is what the erased signups held: their emails (and the `%40` form a URL carries)
//! and local parts, display names, the names and emails of the stored customer profiles, and
//! each word of those names and local parts (JSM may quote a first name alone), each matched in
//! any case and never inside a longer word; and any word with an `@` in it (a detail holds
//! emails masked, `f***@example.com`, or in clear when an earlier version wrote it).

use serde_json::Value;

/// What replaces each personal part of a text.
pub const REDACTED: &str = "[erased]";

/// The personal strings of the signups one erase takes.
#[derive(Debug, Clone, Default)]
pub struct PersonalText {
    /// Each matched as a whole word or phrase in any case, longest first.
    needles: Vec<Vec<char>>,
}

impl PersonalText {
    /// Add one signup's email, display name and stored customer profile (JSON, if any).
    pub fn add(&mut self, email: &str, display_name: &str, customer: Option<&str>) {
        let profile: Option<Value> = customer.and_then(|c| serde_json::from_str(c).ok());
        let field = |name: &str| {
            profile
                .as_ref()
                .and_then(|p| p.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let account = field("accountId");
        let mut emails = vec![email.to_string()];
        emails.extend(field("emailAddress"));
        let mut names = vec![display_name.to_string()];
        names.extend(field("displayName"));
        for email in &emails {
            self.needle(email);
            self.needle(&email.replace('@', "%40"));
            let local = email.split('@').next().unwrap_or_default();
            self.needle(local);
            self.words_of(local);
        }
        for name in &names {
            self.needle(name);
            self.words_of(name);
        }
        // Legacy profile fields, often the username (whole only: a key like `erin-key` is no
        // reason to take every "key"); the account id itself is kept anyway.
        for legacy in ["name", "key"].into_iter().filter_map(field) {
            if Some(&legacy) != account.as_ref() {
                self.needle(&legacy);
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        self.needles.dedup();
    }

    /// `text` with every personal part replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for needle in &self.needles {
            chars = replace(&chars, needle);
        }
        let text: String = chars.into_iter().collect();
        without_emails(&text)
    }

    fn needle(&mut self, text: &str) {
        let text = text.trim();
        // One letter alone would take every occurrence of it; two or more go.
        if text.chars().count() >= 2 {
            self.needles.push(text.chars().collect());
        }
    }

    fn words_of(&mut self, text: &str) {
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            self.needle(word);
        }
    }
}

/// `text` with each occurrence of `needle` (any case, not inside a longer word) replaced by
/// [`REDACTED`].
fn replace(text: &[char], needle: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let end = i + needle.len();
        let found = !needle.is_empty()
            && end <= text.len()
            && same(&text[i..end], needle)
            && !alnum_at(text, i.wrapping_sub(1))
            && !alnum_at(text, end);
        if found {
            out.extend(REDACTED.chars());
            i = end;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

fn same(a: &[char], b: &[char]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| x.to_lowercase().eq(y.to_lowercase()))
}

fn alnum_at(text: &[char], i: usize) -> bool {
    text.get(i).is_some_and(|c| c.is_alphanumeric())
}

/// Every whitespace-separated word holding an `@` replaced, punctuation around it kept.
fn without_emails(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let core = word
                .trim_end()
                .trim_matches(|c: char| "\"'()<>,;:[]".contains(c));
            if core.contains('@') {
                word.replacen(core, REDACTED, 1)
            } else {
                word.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn erin() -> PersonalText {
        let mut person = PersonalText::default();
        person.add(
            "Erin.Erase@example.com",
            "Erin Erase",
            Some(
                r#"{"accountId":"qm:1","name":"qm:1","key":"erin-key",
                    "emailAddress":"erin.erase@example.com","displayName":"Erin E."}"#,
            ),
        );
        person
    }

    #[test]
    fn the_person_goes_and_what_happened_stays() {
        let cases = [
            (
                "create: JSM rejected the request (400): The customer 'Erin Erase' \
                 <e***@example.com> is invalid",
                "create: JSM rejected the request (400): The customer '[erased]' \
                 <[erased]> is invalid",
            ),
            (
                "create: JSM answered 503: Erin could not be added (ERIN.ERASE%40EXAMPLE.COM)",
                "create: JSM answered 503: [erased] could not be added ([erased])",
            ),
            (
                "organization:7: JSM answered 404 Not Found: user erin-key, Erin E. unknown",
                "organization:7: JSM answered 404 Not Found: user [erased], [erased] unknown",
            ),
            (
                // Written by an earlier version, before details were masked.
                "create: JSM said erin.erase@example.com exists (account qm:1)",
                "create: JSM said [erased] exists (account qm:1)",
            ),
            (
                "welcome: JSM answered 500: Internal server error.",
                "welcome: JSM answered 500: Internal server error.",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(erin().redact(text), want, "{text}");
        }
    }

    #[test]
    fn name_words_match_whole_words_only() {
        let mut person = PersonalText::default();
        person.add("al@example.com", "Al Ng", None);
        assert_eq!(
            person.redact("Al is not always allowed: ng"),
            "[erased] is not always allowed: [erased]"
        );
    }

    #[test]
    fn non_ascii_names_in_any_case() {
        let mut person = PersonalText::default();
        person.add("émile@exämple.com", "Émile Zoë", None);
        assert_eq!(
            person.redact("ÉMILE ZOË and zoë, Émile@EXÄMPLE.COM"),
            "[erased] and [erased], [erased]"
        );
    }
}
