//! Field mapping (SPEC §11): where a sender's body keeps the email, the name and a delivery
//! key, as RFC 9535 JSONPath queries. A form body is a flat object of its keys, so Mailchimp's
//! `data[email]` is `$['data[email]']`. No match leaves the field absent, several take the
//! first, a non-string match is an error naming the path. Built-in mappings fill what a
//! source's `[sources.fields]` leaves out.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use super::NewSignup;
use super::new_signup::{BodyFormat, document};
use crate::config::{FieldsConfig, SourceConfig, VerifyScheme};
use crate::error::FieldError;

/// Compile a query; the error says why it does not parse.
pub fn compile_path(path: &str) -> Result<JsonPath, String> {
    JsonPath::parse(path).map_err(|e| format!("{path:?} is not an RFC 9535 JSONPath: {e}"))
}

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

/// The first match of `path` in `root` as a string; no match is `None`.
fn first_string(root: &Value, path: &str) -> Result<Option<String>, FieldError> {
    let query = compile_path(path).map_err(|e| FieldError::new(path, e))?;
    match query.query(root).first() {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(FieldError::new(
            path,
            "matched a value that is not a string",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn source(verify: VerifyScheme, fields: Option<FieldsConfig>) -> SourceConfig {
        let mut s = SourceConfig::sender("s", "acme", verify, vec![Secret::new("x")]);
        s.fields = fields;
        s
    }

    fn custom(email: &str, display: Option<&str>, key: Option<&str>) -> Option<FieldsConfig> {
        Some(FieldsConfig {
            email: Some(email.into()),
            display_name: display.map(Into::into),
            idempotency_key: key.map(Into::into),
            ..FieldsConfig::default()
        })
    }

    #[test]
    fn paths_compile_or_say_why() {
        assert!(compile_path("$.form_response.answers[?@.type=='email'].email").is_ok());
        assert!(compile_path("$['data[email]']").is_ok());
        for bad in ["form.email", "$.a[", "$[?@.x=='y'", ""] {
            assert!(compile_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn custom_paths_no_match_and_non_strings() {
        let json = BodyFormat::Json;
        let body = br#"{"contact":{"mail":"fred@example.com","name":"Fred","id":7},"list":[{"e":"a@b.co"},{"e":"c@d.co"}]}"#;
        let map = FieldMap::for_source(
            &source(
                VerifyScheme::Header,
                custom("$.contact.mail", Some("$.contact.name"), None),
            ),
            json,
        );
        let m = map.parse(body, json).unwrap();
        assert_eq!(
            (m.signup.email.as_str(), m.signup.display_name.as_str()),
            ("fred@example.com", "Fred")
        );
        // Several matches: the first.
        let map = FieldMap::for_source(
            &source(VerifyScheme::Header, custom("$.list[*].e", None, None)),
            json,
        );
        let m = map.parse(body, json).unwrap();
        assert_eq!(
            (m.signup.email.as_str(), m.signup.display_name.as_str()),
            ("a@b.co", "a")
        );
        // No match: the field is absent, reported under its path.
        let map = FieldMap::for_source(
            &source(VerifyScheme::Header, custom("$.nope", None, None)),
            json,
        );
        assert_eq!(map.parse(body, json).unwrap_err()[0].field, "$.nope");
        // A non-string match: 400 naming the path.
        let map = FieldMap::for_source(
            &source(
                VerifyScheme::Header,
                custom("$.contact.mail", None, Some("$.contact.id")),
            ),
            json,
        );
        assert_eq!(map.parse(body, json).unwrap_err()[0].field, "$.contact.id");
        let map = FieldMap::for_source(
            &source(VerifyScheme::Header, custom("$.contact", None, None)),
            json,
        );
        assert_eq!(map.parse(body, json).unwrap_err()[0].field, "$.contact");
        // Without fields.email the §3 rules apply.
        let map = FieldMap::for_source(&source(VerifyScheme::Header, None), json);
        let m = map
            .parse(
                br#"{"email":"x@y.co","firstName":"X","lastName":"Y"}"#,
                json,
            )
            .unwrap();
        assert_eq!(m.signup.display_name.as_str(), "X Y");
        assert_eq!(
            map.parse(br#"{"mail":"x@y.co"}"#, json).unwrap_err()[0].field,
            "email"
        );
    }

    /// SPEC's example: names by the questions' refs, email and key from the built-in.
    fn typeform_names() -> Option<FieldsConfig> {
        Some(FieldsConfig {
            first_name: Some("$.form_response.answers[?@.field.ref=='first_name'].text".into()),
            last_name: Some("$.form_response.answers[?@.field.ref=='last_name'].text".into()),
            ..FieldsConfig::default()
        })
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/senders/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn built_in_mappings_read_their_fixtures() {
        let cases = [
            (
                VerifyScheme::Typeform,
                None,
                "typeform.json",
                BodyFormat::Json,
                "laura.typeform@example.com",
                "laura.typeform",
                Some("a3a12ec67a1ace1b5b6a8dbe1fdc3f7c"),
            ),
            (
                VerifyScheme::Typeform,
                typeform_names(),
                "typeform.json",
                BodyFormat::Json,
                "laura.typeform@example.com",
                "Laura Lovelace",
                Some("a3a12ec67a1ace1b5b6a8dbe1fdc3f7c"),
            ),
            (
                VerifyScheme::Tally,
                None,
                "tally.json",
                BodyFormat::Json,
                "tom.tally@example.com",
                "tom.tally",
                Some("2wgx4n"),
            ),
            (
                VerifyScheme::Webflow,
                custom("$.payload.data.Email", Some("$.payload.data.Name"), None),
                "webflow.json",
                BodyFormat::Json,
                "wendy.webflow@example.com",
                "Wendy Webflow",
                Some("6321ca84df3949bfc6752327"),
            ),
            (
                VerifyScheme::HubspotV3,
                custom("$.properties.email.value", None, None),
                "hubspot.json",
                BodyFormat::Json,
                "harry.hubspot@example.com",
                "harry.hubspot",
                None,
            ),
            (
                VerifyScheme::Query,
                None,
                "mailchimp.form",
                BodyFormat::Form,
                "mona.mailchimp@example.com",
                "Mona Mailchimp",
                None,
            ),
        ];
        for (scheme, fields, file, format, email, name, key) in cases {
            let map = FieldMap::for_source(&source(scheme, fields), format);
            let m = map
                .parse(&fixture(file), format)
                .unwrap_or_else(|e| panic!("{file}: {e:?}"));
            assert_eq!(m.signup.email.as_str(), email, "{file}");
            assert_eq!(m.signup.display_name.as_str(), name, "{file}");
            if key.is_some() {
                assert_eq!(m.key.as_deref(), key, "{file}");
            }
        }
    }
}
