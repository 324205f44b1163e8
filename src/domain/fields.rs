//! Field mapping (docs/INTEGRATIONS.md): where a sender's body keeps the email, the name and a delivery
//! key, as RFC 9535 JSONPath queries. A form body is a flat object of its keys, so Mailchimp's
//! `data[email]` is `$['data[email]']`. No match leaves the field absent, several take the
//! first, a non-string match is an error naming the path. Built-in mappings fill what a
//! source's `[sources.fields]` leaves out.

use serde_json::{Map, Value};

use super::FieldError;
use super::NewSignup;
use super::new_signup::{BodyFormat, document};
use crate::config::{FieldsConfig, SourceConfig, VerifyScheme, compile_path};

/// The queries in effect for one source and body format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMap(FieldsConfig);

/// A mapped body: the signup and the delivery key the mapping found, if any.
#[derive(Debug)]
pub struct Mapped {
    pub signup: NewSignup,
    pub key: Option<String>,
}

impl FieldMap {
    /// The source's `fields`, with its scheme's built-ins where they leave a field out.
    pub fn for_source(source: &SourceConfig, format: BodyFormat) -> Self {
        let mut map = source.fields.clone().unwrap_or_default();
        let (email, key) = match (source.verify, format) {
            (VerifyScheme::Typeform, _) => (
                Some("$.form_response.answers[?@.type=='email'].email"),
                Some("$.form_response.token"),
            ),
            (VerifyScheme::Tally, _) => (
                Some("$.data.fields[?@.type=='INPUT_EMAIL'].value"),
                Some("$.data.responseId"),
            ),
            (VerifyScheme::Webflow, _) => (None, Some("$.payload.id")),
            (VerifyScheme::Stripe, _) => (None, Some("$.id")),
            (VerifyScheme::Query, BodyFormat::Form) => {
                fill(&mut map.first_name, "$['data[merges][FNAME]']");
                fill(&mut map.last_name, "$['data[merges][LNAME]']");
                (Some("$['data[email]']"), None)
            }
            _ => (None, None),
        };
        if let Some(email) = email {
            fill(&mut map.email, email);
        }
        if let Some(key) = key {
            fill(&mut map.idempotency_key, key);
        }
        Self(map)
    }

    /// Parse `body` by this mapping; errors name the path (or §3 field) they were read from.
    pub fn parse(&self, body: &[u8], format: BodyFormat) -> Result<Mapped, Vec<FieldError>> {
        let doc = document(body, format)?;
        let root = Value::Object(doc);
        let mut errors = Vec::new();
        let mut read = |path: &Option<String>| match path {
            None => None,
            Some(path) => match first_string(&root, path) {
                Ok(value) => Some((path.clone(), value)),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        let email = read(&self.0.email);
        let display = read(&self.0.display_name);
        let first = read(&self.0.first_name);
        let last = read(&self.0.last_name);
        let key = read(&self.0.idempotency_key).and_then(|(_, v)| v);
        if !errors.is_empty() {
            return Err(errors);
        }
        let name = pick_name(display, first, last);
        let fields = match &root {
            Value::Object(map) => map,
            _ => &Map::new(),
        };
        let signup = NewSignup::from_mapped(fields, email, name)?;
        Ok(Mapped { signup, key })
    }
}

fn fill(slot: &mut Option<String>, path: &str) {
    if slot.is_none() {
        *slot = Some(path.to_string());
    }
}

/// `display_name`, else `first_name` + `last_name` (either alone), each non-blank.
fn pick_name(
    display: Option<(String, Option<String>)>,
    first: Option<(String, Option<String>)>,
    last: Option<(String, Option<String>)>,
) -> Option<(String, String)> {
    let present = |read: Option<(String, Option<String>)>| {
        read.and_then(|(path, v)| v.filter(|v| !v.trim().is_empty()).map(|v| (path, v)))
    };
    if let Some(found) = present(display) {
        return Some(found);
    }
    match (present(first), present(last)) {
        (Some((path, f)), Some((_, l))) => Some((path, format!("{} {}", f.trim(), l.trim()))),
        (Some(one), None) | (None, Some(one)) => Some(one),
        (None, None) => None,
    }
}

/// The first match of `path` in `root` as a string; no match (or `null`) is `None`.
fn first_string(root: &Value, path: &str) -> Result<Option<String>, FieldError> {
    let query = compile_path(path).map_err(|e| FieldError::new(path, e))?;
    match query.query(root).first() {
        // `null` is absent, as in the plain body rules.
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(FieldError::new(
            path,
            "matched a value that is not a string",
        )),
    }
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
