//! Field mapping: custom paths, built-ins on their fixtures, no match, non-string matches.

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

/// Queries the fuzzer found: one made the parser panic, one took it seconds.
#[test]
fn hostile_queries_are_refused_without_a_panic_or_a_long_parse() {
    let nested = format!("$.data{}", "[?@.t".repeat(16));
    let long = format!("$.{}", "a".repeat(300));
    let cases: [(&str, &str); 3] = [
        ("$['d&c\\u", "is not an RFC 9535 JSONPath"),
        (&nested, "more than 8 `[` and `(` together"),
        (&long, "at most 256 characters"),
    ];
    for (query, why) in cases {
        let error = compile_path(query).unwrap_err();
        assert!(error.contains(why), "{query}: {error}");
    }
    let eight = format!("$.a{}{}", "[?@.t".repeat(4), "]".repeat(4));
    assert!(
        compile_path(&eight).is_ok(),
        "four nested filters still compile"
    );
}

#[test]
fn custom_paths_no_match_and_non_strings() {
    let json = BodyFormat::Json;
    let body = br#"{"contact":{"mail":"fred@example.com","name":"Fred","id":7,"nick":null},"list":[{"e":"a@b.co"},{"e":"c@d.co"}]}"#;
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
    // A mapped name replaces the body's own name fields, even unusable ones.
    let map = FieldMap::for_source(
        &source(VerifyScheme::Header, custom("$.e", Some("$.n"), None)),
        json,
    );
    let m = map
        .parse(
            br#"{"e":"x@y.co","n":"Mapped","name":"bad\u0007name"}"#,
            json,
        )
        .unwrap();
    assert_eq!(m.signup.display_name.as_str(), "Mapped");
    // Without a mapped name they are checked as in the plain rules.
    let map = FieldMap::for_source(
        &source(VerifyScheme::Header, custom("$.e", None, None)),
        json,
    );
    let errors = map
        .parse(
            br#"{"e":"x@y.co","displayName":"D","name":"bad\u0007name"}"#,
            json,
        )
        .unwrap_err();
    assert_eq!(errors[0].field, "name");
    // A display name that matches nothing or null falls back to the email's local part.
    for path in ["$.contact.missing", "$.contact.nick"] {
        let map = FieldMap::for_source(
            &source(
                VerifyScheme::Header,
                custom("$.contact.mail", Some(path), None),
            ),
            json,
        );
        assert_eq!(
            map.parse(body, json).unwrap().signup.display_name.as_str(),
            "fred"
        );
    }
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

/// The documented example: names by the questions' refs, email and key from the built-in.
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
