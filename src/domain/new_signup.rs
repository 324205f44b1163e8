//! Parsing a webhook body (JSON or form) into a valid signup, with the name fallbacks of docs/API.md.

use serde_json::{Map, Value};

use super::{DisplayName, Email, FieldError};

/// A signup as the sender asked for it, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSignup {
    pub email: Email,
    pub display_name: DisplayName,
}

/// The body formats the intake accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Form,
}

impl NewSignup {
    /// Parse a body; every problem is reported with the field it was read from.
    pub fn parse(body: &[u8], format: BodyFormat) -> Result<Self, Vec<FieldError>> {
        Self::from_fields(&document(body, format)?)
    }

    fn from_fields(fields: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        Self::from_mapped(fields, None, None)
    }

    /// Build a signup from values a field mapping read (each with the field it names in
    /// errors); what the mapping left out follows the body rules of docs/API.md.
    pub(crate) fn from_mapped(
        fields: &Map<String, Value>,
        email: Option<(String, Option<String>)>,
        name: Option<(String, String)>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let email_read = match email {
            Some((field, raw)) => Ok((field, raw)),
            None => text(fields, "email").map(|raw| ("email".to_string(), raw.map(str::to_string))),
        };
        let email = match email_read {
            Err(e) => {
                errors.push(e);
                None
            }
            Ok((field, raw)) => match Email::parse(raw.as_deref().unwrap_or_default()) {
                Ok(email) => Some(email),
                Err(message) => {
                    errors.push(FieldError::new(field, message));
                    None
                }
            },
        };
        // Every name field that is given must be usable, whether or not the fallback reaches it,
        // so the published schema and the intake agree. A mapped name replaces the body's own.
        let before = errors.len();
        if name.is_none() {
            for field in NAME_FIELDS {
                match text(fields, field) {
                    Err(e) => errors.push(e),
                    Ok(Some(raw)) if !raw.trim().is_empty() => {
                        if let Err(message) = DisplayName::parse(raw) {
                            errors.push(FieldError::new(field, message));
                        }
                    }
                    Ok(_) => {}
                }
            }
        }
        let picked = match name {
            Some(given) => Ok(Some(given)),
            None => pick_name(fields).map(|n| n.map(|(field, raw)| (field.to_string(), raw))),
        };
        let name = match picked {
            _ if errors.len() > before => None,
            Err(e) => {
                errors.push(e);
                None
            }
            Ok(Some((field, raw))) => match DisplayName::parse(&raw) {
                Ok(name) => Some(name),
                Err(message) => {
                    errors.push(FieldError::new(field, message));
                    None
                }
            },
            Ok(None) => email
                .as_ref()
                .and_then(|e| DisplayName::parse(e.local_part()).ok()),
        };
        match (email, name) {
            (Some(email), Some(display_name)) if errors.is_empty() => Ok(Self {
                email,
                display_name,
            }),
            _ => Err(errors),
        }
    }
}

/// The body as an object: a JSON object, or a form as a flat object of its keys.
pub fn document(body: &[u8], format: BodyFormat) -> Result<Map<String, Value>, Vec<FieldError>> {
    match format {
        BodyFormat::Json => json_object(body),
        BodyFormat::Form => form_fields(body),
    }
}

/// The fields a display name may come from, in fallback order.
const NAME_FIELDS: [&str; 5] = ["displayName", "name", "fullName", "firstName", "lastName"];

/// The first non-blank name source: displayName, name, fullName, firstName + lastName.
fn pick_name(fields: &Map<String, Value>) -> Result<Option<(&'static str, String)>, FieldError> {
    for field in ["displayName", "name", "fullName"] {
        if let Some(value) = text(fields, field)?.filter(|v| !v.trim().is_empty()) {
            return Ok(Some((field, value.to_string())));
        }
    }
    let first = text(fields, "firstName")?
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let last = text(fields, "lastName")?
        .map(str::trim)
        .filter(|v| !v.is_empty());
    Ok(match (first, last) {
        (Some(f), Some(l)) => Some(("firstName", format!("{f} {l}"))),
        (Some(f), None) => Some(("firstName", f.to_string())),
        (None, Some(l)) => Some(("lastName", l.to_string())),
        (None, None) => None,
    })
}

/// A string field; absent and `null` are `None`, any other type is an error.
fn text<'a>(fields: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, FieldError> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(FieldError::new(field, "must be a string")),
    }
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, Vec<FieldError>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(vec![FieldError::new("body", "must be a JSON object")]),
        Err(e) => Err(vec![FieldError::new(
            "body",
            format!("is not valid JSON: {e}"),
        )]),
    }
}

fn form_fields(body: &[u8]) -> Result<Map<String, Value>, Vec<FieldError>> {
    // `curl -d '{...}'` sends JSON with curl's default form Content-Type: as a form it is one
    // key with no value, and "email is required" would hide the real mistake.
    if serde_json::from_slice::<Value>(body).is_ok_and(|v| v.is_object() || v.is_array()) {
        return Err(vec![FieldError::new(
            "body",
            "is JSON, but Content-Type says application/x-www-form-urlencoded (curl -d's \
             default); send Content-Type: application/json (curl -H 'Content-Type: application/json')",
        )]);
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| vec![FieldError::new("body", format!("is not a valid form: {e}"))])?;
    let mut map = Map::new();
    for (key, value) in pairs {
        map.entry(key).or_insert(Value::String(value));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(body: &str) -> Result<NewSignup, Vec<FieldError>> {
        NewSignup::parse(body.as_bytes(), BodyFormat::Json)
    }

    #[test]
    fn json_sent_as_a_form_is_named_as_such() {
        for body in [
            r#"{"email":"fred@example.com"}"#,
            " [1] ",
            r#"{"a":{"b":1}}"#,
        ] {
            let errors = NewSignup::parse(body.as_bytes(), BodyFormat::Form).unwrap_err();
            assert_eq!(errors.len(), 1, "{body}");
            assert_eq!(errors[0].field, "body");
            assert!(errors[0].message.contains("application/json"), "{body}");
        }
        for form in ["email=fred%40example.com", "email={x}", "{not json"] {
            let parsed = NewSignup::parse(form.as_bytes(), BodyFormat::Form);
            assert!(
                parsed
                    .as_ref()
                    .err()
                    .is_none_or(|e| !e[0].message.contains("is JSON")),
                "{form}"
            );
        }
    }

    fn name_of(body: &str) -> String {
        json(body).unwrap().display_name.as_str().to_string()
    }

    #[test]
    fn display_name_fallbacks() {
        let e = r#""email":"fred@example.com""#;
        let cases = [
            (
                format!(r#"{{{e},"displayName":" Fred F. User "}}"#),
                "Fred F. User",
            ),
            (format!(r#"{{{e},"displayName":"  ","name":"N"}}"#), "N"),
            (format!(r#"{{{e},"fullName":"Full"}}"#), "Full"),
            (
                format!(r#"{{{e},"firstName":"Fred","lastName":"User"}}"#),
                "Fred User",
            ),
            (format!(r#"{{{e},"firstName":"Fred"}}"#), "Fred"),
            (format!(r#"{{{e},"lastName":"User"}}"#), "User"),
            (format!(r#"{{{e},"displayName":null}}"#), "fred"),
            (format!(r#"{{{e}}}"#), "fred"),
        ];
        for (body, want) in cases {
            assert_eq!(name_of(&body), want, "{body}");
        }
    }

    #[test]
    fn errors_name_the_field_read() {
        let cases = [
            (r#"{"displayName":"x"}"#, "email"),
            (r#"{"email":"nope","displayName":"x"}"#, "email"),
            (r#"{"email":12,"displayName":"x"}"#, "email"),
            (r#"{"email":"a@b.co","fullName":"a\u0007b"}"#, "fullName"),
            (r#"{"email":"a@b.co","displayName":5}"#, "displayName"),
            ("[1,2]", "body"),
            ("not json", "body"),
            ("\"text\"", "body"),
        ];
        for (body, field) in cases {
            let errors = json(body).unwrap_err();
            assert_eq!(errors[0].field, field, "{body}");
        }
        let long = format!(r#"{{"email":"a@b.co","name":"{}"}}"#, "n".repeat(256));
        assert_eq!(json(&long).unwrap_err()[0].field, "name");
        // A name field the fallback never reaches is still checked, and reported once.
        let unused = r#"{"email":"a@b.co","displayName":"Ok","lastName":"a\u0001b"}"#;
        let errors = json(unused).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "lastName");
        let bad = r#"{"email":"a@b.co","displayName":"a\u0001b"}"#;
        assert_eq!(json(bad).unwrap_err().len(), 1);
    }

    #[test]
    fn form_bodies() {
        let s = NewSignup::parse(
            b"email=fred%40example.com&firstName=Fred&lastName=F.+User",
            BodyFormat::Form,
        )
        .unwrap();
        assert_eq!(s.email.as_str(), "fred@example.com");
        assert_eq!(s.display_name.as_str(), "Fred F. User");
    }
}
