//! `welcome_request` (SPEC §20): a first JSM request raised on the new customer's behalf, so
//! JSM notifies them and the portal link reaches them (the customer API sends no invitation).
//! Set on a tenant, or on a source (whose value replaces the tenant's for its signups).

use serde::{Deserialize, Serialize};

use super::IdOrKey;

/// JSM's limit on an issue summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 255;

/// The placeholders the summary and description may hold.
pub const PLACEHOLDERS: [&str; 2] = ["{displayName}", "{email}"];

/// `welcome_request = { service_desk_id, request_type_id, summary, description }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WelcomeRequest {
    /// The desk the request is raised in (a numeric id).
    pub service_desk_id: IdOrKey,
    /// The request type (a numeric id, as JSM's portal settings show it).
    pub request_type_id: IdOrKey,
    /// `{displayName}` and `{email}` are filled in; at most 255 characters once filled (a
    /// longer one is cut).
    pub summary: String,
    /// The same placeholders; the bridge appends its marker line.
    #[serde(default)]
    pub description: String,
}

/// A filled-in summary and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WelcomeText {
    pub summary: String,
    pub description: String,
}

impl WelcomeRequest {
    /// Check the ids and the texts; `key` is where it sits (`tenants[0].welcome_request`).
    pub fn validate(&self, key: &str) -> Result<(), String> {
        positive_id(&self.service_desk_id)
            .map_err(|e| format!("key `{key}.service_desk_id`: {e}"))?;
        positive_id(&self.request_type_id)
            .map_err(|e| format!("key `{key}.request_type_id`: {e}"))?;
        check_placeholders(&self.summary).map_err(|e| format!("key `{key}.summary`: {e}"))?;
        check_placeholders(&self.description)
            .map_err(|e| format!("key `{key}.description`: {e}"))?;
        let fixed = PLACEHOLDERS
            .iter()
            .fold(self.summary.clone(), |s, p| s.replace(p, ""));
        if self.summary.trim().is_empty() {
            return Err(format!("key `{key}.summary`: must not be empty"));
        }
        if fixed.chars().count() > MAX_SUMMARY_CHARS {
            return Err(format!(
                "key `{key}.summary`: must be at most {MAX_SUMMARY_CHARS} characters besides \
                 its placeholders (JSM's summary limit)"
            ));
        }
        if self.summary.contains(['\n', '\r']) {
            return Err(format!(
                "key `{key}.summary`: must be one line (JSM refuses line breaks in a summary)"
            ));
        }
        Ok(())
    }

    /// The summary and description for this person; the summary cut at 255 characters.
    pub fn fill(&self, display_name: &str, email: &str) -> WelcomeText {
        let fill = |text: &str| {
            text.replace("{displayName}", display_name)
                .replace("{email}", email)
        };
        let summary = fill(&self.summary);
        let summary = match summary.chars().count() > MAX_SUMMARY_CHARS {
            true => summary.chars().take(MAX_SUMMARY_CHARS).collect(),
            false => summary,
        };
        WelcomeText {
            summary,
            description: fill(&self.description),
        }
    }
}

/// JSM's desk and request type ids are positive integers (given as numbers or numeric strings).
fn positive_id(id: &IdOrKey) -> Result<(), String> {
    let ok = match id {
        IdOrKey::Number(n) => *n > 0,
        IdOrKey::Text(s) => {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && s.parse::<u64>().is_ok_and(|n| n > 0)
        }
    };
    match ok {
        true => Ok(()),
        false => Err(format!(
            "{id:?} is not a positive integer (JSM's ids are numbers; see the portal settings)"
        )),
    }
}

/// Every `{` must open one of the known placeholders.
fn check_placeholders(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(at) = rest.find('{') {
        let tail = &rest[at..];
        match PLACEHOLDERS.iter().find(|p| tail.starts_with(**p)) {
            Some(p) => rest = &tail[p.len()..],
            None => {
                let shown: String = tail.chars().take(20).collect();
                return Err(format!(
                    "unknown placeholder at {shown:?}: only {{displayName}} and {{email}} are \
                     filled in"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn welcome(desk: IdOrKey, rtype: IdOrKey, summary: &str, description: &str) -> WelcomeRequest {
        WelcomeRequest {
            service_desk_id: desk,
            request_type_id: rtype,
            summary: summary.into(),
            description: description.into(),
        }
    }

    #[test]
    fn ids_texts_and_placeholders_are_checked() {
        use IdOrKey::{Number as N, Text as T};
        let long = "x".repeat(256);
        let at_limit = format!("{}{{displayName}}", "x".repeat(255));
        let cases = [
            (
                welcome(N(10), N(5), "Welcome {displayName}", "Hi {email}"),
                None,
            ),
            (welcome(T("10".into()), T("5".into()), "Hi", ""), None),
            (welcome(N(10), N(5), &at_limit, ""), None),
            (welcome(N(0), N(5), "Hi", ""), Some("w.service_desk_id")),
            (
                welcome(T("HELP".into()), N(5), "Hi", ""),
                Some("w.service_desk_id"),
            ),
            (
                welcome(N(10), T("-5".into()), "Hi", ""),
                Some("w.request_type_id"),
            ),
            (
                welcome(N(10), T("".into()), "Hi", ""),
                Some("w.request_type_id"),
            ),
            (welcome(N(10), N(5), "  ", ""), Some("w.summary")),
            (welcome(N(10), N(5), &long, ""), Some("w.summary")),
            (welcome(N(10), N(5), "Hi\nthere", ""), Some("w.summary")),
            (welcome(N(10), N(5), "Hi {name}", ""), Some("w.summary")),
            (
                welcome(N(10), N(5), "Hi", "Dear {displayname}"),
                Some("w.description"),
            ),
            (welcome(N(10), N(5), "Hi", "a { b"), Some("w.description")),
        ];
        for (w, key) in cases {
            match (w.validate("w"), key) {
                (Ok(()), None) => {}
                (Err(e), Some(key)) => assert!(e.contains(&format!("`{key}`")), "{e}"),
                (got, want) => panic!("{w:?}: got {got:?}, want an error at {want:?}"),
            }
        }
    }

    #[test]
    fn placeholders_are_filled_and_the_summary_cut() {
        let w = welcome(
            IdOrKey::Number(1),
            IdOrKey::Number(2),
            "Welcome, {displayName}",
            "{displayName} <{email}> {email}",
        );
        let text = w.fill("Ada", "ada@x.com");
        assert_eq!(text.summary, "Welcome, Ada");
        assert_eq!(text.description, "Ada <ada@x.com> ada@x.com");
        let long = w.fill(&"é".repeat(300), "a@x.com");
        assert_eq!(long.summary.chars().count(), MAX_SUMMARY_CHARS);
    }

    #[test]
    fn the_keys_load_and_errors_say_where() {
        let text = |welcome: &str| {
            format!(
                "[[tenants]]\nid = \"t\"\nbase_url = \"https://t.atlassian.net\"\n\
                 auth = {{ type = \"basic\", email = \"b@t.test\", api_token = \"tok\" }}\n\
                 welcome_request = {welcome}\n\
                 [[sources]]\nid = \"s\"\ntenant = \"t\"\nsecret = \"0123456789abcdef0123456789abcdef01234567\"\n\
                 welcome_request = {{ service_desk_id = \"3\", request_type_id = 4, summary = \"S\" }}\n"
            )
        };
        let load = |welcome: &str| {
            crate::config::load_from_text(&text(welcome), "bridge.toml", &|_| None)
                .map_err(|e| e.to_string())
        };
        let config = load(
            r#"{ service_desk_id = 10, request_type_id = "5", summary = "Hi {displayName}" }"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let tenant = config.tenants[0].welcome_request.as_ref().unwrap();
        assert_eq!(tenant.service_desk_id, IdOrKey::Number(10));
        assert_eq!(tenant.request_type_id, IdOrKey::Text("5".into()));
        assert_eq!(tenant.description, "");
        let source = config.sources[0].welcome_request.as_ref().unwrap();
        assert_eq!(source.service_desk_id.to_string(), "3");
        let bad = load(r#"{ service_desk_id = 10, request_type_id = 5, summary = "Hi {name}" }"#)
            .unwrap_err();
        assert!(bad.starts_with("bridge.toml:5:"), "{bad}");
        assert!(bad.contains("tenants[0].welcome_request.summary"), "{bad}");
        let unknown =
            load(r#"{ service_desk_id = 10, request_type_id = 5, summary = "S", x = 1 }"#)
                .unwrap_err();
        assert!(unknown.contains("x"), "{unknown}");
        assert!(unknown.starts_with("bridge.toml:5:"), "{unknown}");
    }
}
