//! Signing like each sender does, written from the vendors' documented schemes (not from the
//! bridge's own signing code), plus the senders' fixtures and sources for the tests.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use signup_bridge::config::{FieldsConfig, Secret, SourceConfig, VerifyScheme};

pub const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const PLAIN_SECRET: &str = "sender-secret-0123456789";
pub const HEADER_NAME: &str = "X-Signup-Token";

/// A sender's request: extra headers and an optional query string.
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub query: Option<String>,
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn h(name: &str, value: String) -> (String, String) {
    (name.to_string(), value)
}

/// Sign `body` as the vendor of `scheme` would, with `secret`, at `now_ms`, for `url`.
pub fn sign(scheme: VerifyScheme, secret: &str, body: &[u8], url: &str, now_ms: i64) -> Delivery {
    let secs = (now_ms / 1000).to_string();
    let ms = now_ms.to_string();
    let key = secret.as_bytes();
    let headers = match scheme {
        VerifyScheme::StandardWebhooks => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(secret.trim_start_matches("whsec_"))
                .unwrap();
            let id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
            let sig = hmac(&raw, &[id.as_bytes(), b".", secs.as_bytes(), b".", body]);
            vec![
                h("webhook-id", id.into()),
                h("webhook-timestamp", secs),
                h("webhook-signature", format!("v1,{}", b64(&sig))),
            ]
        }
        VerifyScheme::Stripe => {
            let sig = hex::encode(hmac(key, &[secs.as_bytes(), b".", body]));
            vec![h("Stripe-Signature", format!("t={secs},v1={sig}"))]
        }
        VerifyScheme::Typeform => vec![h(
            "Typeform-Signature",
            format!("sha256={}", b64(&hmac(key, &[body]))),
        )],
        VerifyScheme::Tally => vec![h("Tally-Signature", b64(&hmac(key, &[body])))],
        VerifyScheme::Webflow => vec![
            h("x-webflow-timestamp", ms.clone()),
            h(
                "x-webflow-signature",
                hex::encode(hmac(key, &[ms.as_bytes(), b":", body])),
            ),
        ],
        VerifyScheme::HubspotV3 => vec![
            h(
                "X-HubSpot-Signature-v3",
                b64(&hmac(key, &[b"POST", url.as_bytes(), body, ms.as_bytes()])),
            ),
            h("X-HubSpot-Request-Timestamp", ms),
        ],
        VerifyScheme::Header => vec![h(HEADER_NAME, secret.to_string())],
        VerifyScheme::Query => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("key", secret)
                .finish();
            return Delivery {
                headers: vec![],
                query: Some(query),
            };
        }
        VerifyScheme::Jwt => unreachable!("JWT sources use token_for"),
    };
    Delivery {
        headers,
        query: None,
    }
}

/// One sender under test: its source, a realistic body and the email it carries.
pub struct Sender {
    pub source: SourceConfig,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub email: &'static str,
    pub secret: &'static str,
    /// Whether the scheme signs a timestamp (a stale one must be refused).
    pub timestamped: bool,
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/senders/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn fields(email: &str, display: Option<&str>) -> Option<FieldsConfig> {
    Some(FieldsConfig {
        email: Some(email.into()),
        display_name: display.map(Into::into),
        ..FieldsConfig::default()
    })
}

/// Every scheme with a realistic payload, each its own source of the test tenant.
pub fn senders() -> Vec<Sender> {
    let json = "application/json";
    let make = |id: &str, scheme, secret: &'static str, fields, body, email, timestamped| {
        let mut source = SourceConfig::sender(
            id,
            super::helpers::TENANT,
            scheme,
            vec![Secret::new(secret)],
        );
        source.fields = fields;
        if scheme == VerifyScheme::Header {
            source.header = Some(HEADER_NAME.into());
        }
        Sender {
            source,
            body,
            content_type: if id == "mailchimp" {
                "application/x-www-form-urlencoded"
            } else {
                json
            },
            email,
            secret,
            timestamped,
        }
    };
    let stripe_event = br#"{"id":"evt_1QdX8h2eZvKYlo2C","object":"event","type":"customer.created","data":{"object":{"id":"cus_R1","object":"customer","email":"sara.stripe@example.com","name":"Sara Stripe"}}}"#;
    let svix =
        br#"{"type":"user.created","data":{"email":"sam.svix@example.com","name":"Sam Svix"}}"#;
    let zap = br#"{"email":"zed.zapier@example.com","firstName":"Zed","lastName":"Zapier"}"#;
    vec![
        make(
            "svix",
            VerifyScheme::StandardWebhooks,
            WHSEC,
            fields("$.data.email", Some("$.data.name")),
            svix.to_vec(),
            "sam.svix@example.com",
            true,
        ),
        make(
            "stripe",
            VerifyScheme::Stripe,
            PLAIN_SECRET,
            fields("$.data.object.email", Some("$.data.object.name")),
            stripe_event.to_vec(),
            "sara.stripe@example.com",
            true,
        ),
        make(
            "typeform",
            VerifyScheme::Typeform,
            PLAIN_SECRET,
            None,
            fixture("typeform.json"),
            "laura.typeform@example.com",
            false,
        ),
        make(
            "tally",
            VerifyScheme::Tally,
            PLAIN_SECRET,
            None,
            fixture("tally.json"),
            "tom.tally@example.com",
            false,
        ),
        make(
            "webflow",
            VerifyScheme::Webflow,
            PLAIN_SECRET,
            fields("$.payload.data.Email", Some("$.payload.data.Name")),
            fixture("webflow.json"),
            "wendy.webflow@example.com",
            true,
        ),
        make(
            "hubspot",
            VerifyScheme::HubspotV3,
            PLAIN_SECRET,
            fields("$.properties.email.value", None),
            fixture("hubspot.json"),
            "harry.hubspot@example.com",
            true,
        ),
        make(
            "zapier",
            VerifyScheme::Header,
            PLAIN_SECRET,
            None,
            zap.to_vec(),
            "zed.zapier@example.com",
            false,
        ),
        make(
            "mailchimp",
            VerifyScheme::Query,
            PLAIN_SECRET,
            None,
            fixture("mailchimp.form"),
            "mona.mailchimp@example.com",
            false,
        ),
    ]
}
