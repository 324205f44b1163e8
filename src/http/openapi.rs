//! `GET /openapi.json`: the OpenAPI 3.1 document of this API, generated from the types the
//! handlers serialise. Operations are described here, next to each other, and a test checks
//! the document against the route table so no served route goes undocumented.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::domain::{SignupStatus, SignupView, Step, StepState};
use crate::error::{FieldError, Problem};

/// The signup a sender posts (JSON, or the same fields form-encoded). Unknown fields are ignored.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request body; intake reads it field by field
#[schema(as = SignupRequest)]
#[serde(rename_all = "camelCase")]
struct SignupRequest {
    /// Trimmed; at most 254 characters, exactly one `@` with a non-empty part before it, a
    /// domain with a dot and no empty label, no whitespace or control characters.
    #[schema(
        min_length = 5,
        max_length = 254,
        pattern = r"^[^\s@\u0000-\u001F\u007F-\u009F]+@[^\s@.\u0000-\u001F\u007F-\u009F]+(\.[^\s@.\u0000-\u001F\u007F-\u009F]+)+$",
        example = "fred@example.com"
    )]
    email: String,
    /// Every name field: blank after trimming counts as absent; otherwise 1–255 characters, no
    /// control characters (each name field that is given is checked, used or not).
    /// Falls back to name, fullName, firstName + " " + lastName, then the email's local part.
    #[schema(
        max_length = 255,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$",
        example = "Fred F. User"
    )]
    display_name: Option<String>,
    #[schema(max_length = 255, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: Option<String>,
    #[schema(max_length = 255, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    full_name: Option<String>,
    /// With lastName: together (with one space) at most 255 characters.
    #[schema(max_length = 255, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    first_name: Option<String>,
    #[schema(max_length = 255, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    last_name: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "signup-bridge", description = "Signed signup webhooks become Jira Service Management customers, exactly once."),
    paths(
        receive_signup, receive_source_signup, validate_source_url, show_signup, descriptor, installed, uninstalled, enabled, disabled,
        super::openapi_forge::forge_lifecycle, super::openapi_forge::forge_refresh, super::openapi_forge::forge_uninstall,
        healthz, readyz, metrics, openapi_json
    ),
    components(schemas(SignupRequest, SignupView, Step, StepState, SignupStatus, Problem, FieldError)),
    modifiers(&TokenAuth),
    tags(
        (name = "intake", description = "Signups from configured sources"),
        (name = "connect", description = "Atlassian Connect descriptor and lifecycle"),
        (name = "forge", description = "Forge Remote lifecycle events and triggers"),
        (name = "operations", description = "Health, readiness, metrics, this document")
    )
)]
pub struct ApiDoc;

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A JWT whose `iss` is the source id (`Authorization: Bearer` or `JWT`).",
                ))
                .build(),
        );
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme("jwt", scheme);
        }
    }
}

/// The document as JSON.
pub fn document() -> String {
    ApiDoc::openapi()
        .to_json()
        .unwrap_or_else(|_| "{}".to_string())
}

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}

#[utoipa::path(post, path = "/webhooks/signup", tag = "intake",
    security(("jwt" = [])),
    params(("Idempotency-Key" = Option<String>, Header,
        description = "RFC 8941 string or bare token, 1–255 visible ASCII; else the JWT `jti`, else a hash of the signup",
        min_length = 1, max_length = 512,
        pattern = r#"^(?:[!#-~][!-~]{0,254}|"(?:[!#-\[\]-~]|\\["\\]){1,255}")$"#)),
    request_body(content(
        (SignupRequest = "application/json"),
        (SignupRequest = "application/x-www-form-urlencoded")
    )),
    responses(
        (status = 201, description = "JSM created the customer", body = SignupView),
        (status = 200, description = "JSM already had a customer with this email", body = SignupView),
        (status = 202, description = "Durably accepted; JSM not done yet. `Location: /signups/{id}`", body = SignupView),
        (status = 422, description = "`failed` signup (the signup, JSON), or `idempotency_key_reused` / `email_domain_not_allowed` (problem+json)", content(
            (SignupView = "application/json"),
            (Problem = "application/problem+json")
        )),
        (status = 400, description = "`invalid_payload` or `invalid_idempotency_key`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`request_in_progress` (Retry-After: 1)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` (Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`overloaded` when this instance already stores `server.max_intake_in_flight` new signups (nothing stored; Retry-After: 1), `tenant_unavailable`, or `storage_unavailable` when the database cannot take the write now (Retry-After: 1)", body = Problem, content_type = "application/problem+json")
    ))]
#[allow(dead_code)]
fn receive_signup() {}

#[utoipa::path(post, path = "/webhooks/signup/{source_id}", tag = "intake",
    description = "A source's own route. The source's `verify` scheme decides what is checked: \
        a JWT whose `iss` is this source (`jwt`), or a signature over the exact body bytes: \
        `webhook-id`/`webhook-timestamp`/`webhook-signature` (also `svix-*`; standard-webhooks), \
        `Stripe-Signature` or `Calendly-Webhook-Signature` (stripe), `Typeform-Signature` (typeform), \
        `Tally-Signature` (tally), `x-webflow-timestamp`/`x-webflow-signature` (webflow), \
        `X-HubSpot-Signature-v3`/`X-HubSpot-Request-Timestamp` (hubspot-v3), the configured header \
        (header), or `?key=` (query). The body is read through the source's field mapping.",
    params(
        ("source_id" = String, Path, description = "The source's `id`"),
        ("key" = Option<String>, Query, description = "`query` sources: one of the source's secrets (never logged)"),
        ("Authorization" = Option<String>, Header, description = "`jwt` sources: `Bearer <jwt>` whose `iss` is this source"),
        ("webhook-id" = Option<String>, Header, description = "`standard-webhooks` (or `svix-id`): the delivery id, also the idempotency key"),
        ("webhook-timestamp" = Option<String>, Header, description = "`standard-webhooks` (or `svix-timestamp`): Unix seconds"),
        ("webhook-signature" = Option<String>, Header, description = "`standard-webhooks` (or `svix-signature`): space-separated `v1,<base64>`"),
        ("Stripe-Signature" = Option<String>, Header, description = "`stripe` (or `Calendly-Webhook-Signature`): `t=<seconds>,v1=<hex>`"),
        ("Typeform-Signature" = Option<String>, Header, description = "`typeform`: `sha256=<base64>`"),
        ("Tally-Signature" = Option<String>, Header, description = "`tally`: `<base64>`"),
        ("x-webflow-timestamp" = Option<String>, Header, description = "`webflow`: Unix milliseconds"),
        ("x-webflow-signature" = Option<String>, Header, description = "`webflow`: `<hex>`"),
        ("X-HubSpot-Signature-v3" = Option<String>, Header, description = "`hubspot-v3`: `<base64>`"),
        ("X-HubSpot-Request-Timestamp" = Option<String>, Header, description = "`hubspot-v3`: Unix milliseconds"),
        ("Idempotency-Key" = Option<String>, Header,
            description = "`jwt`, `header` and `query` sources: the key, else the mapped key, the JWT `jti`, a hash of the signup. Ignored by HMAC schemes (`standard-webhooks`, `stripe`, `typeform`, `tally`, `webflow`, `hubspot-v3`): their key is the delivery id (`webhook-id`), else the mapped key, else a hash of the signup")),
    request_body(content(
        (SignupRequest = "application/json"),
        (SignupRequest = "application/x-www-form-urlencoded")
    )),
    responses(
        (status = 201, description = "JSM created the customer", body = SignupView),
        (status = 200, description = "JSM already had a customer with this email", body = SignupView),
        (status = 202, description = "Durably accepted; JSM not done yet. `Location: /signups/{id}`", body = SignupView),
        (status = 422, description = "`failed` signup (body: the signup), or `idempotency_key_reused` / `email_domain_not_allowed` (problem)", body = SignupView),
        (status = 400, description = "`invalid_payload` (`field` is the JSONPath read) or `invalid_idempotency_key`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_signature` (`invalid_token` for a JWT source)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no source has this id", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`request_in_progress` (Retry-After: 1)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: the source's `rate_limit`, or 30 failed verifications from this address within a minute (Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`overloaded` when this instance already stores `server.max_intake_in_flight` new signups (nothing stored; Retry-After: 1), `tenant_unavailable`, or `storage_unavailable` when the database cannot take the write now (Retry-After: 1)", body = Problem, content_type = "application/problem+json")
    ))]
#[allow(dead_code)]
fn receive_source_signup() {}

#[utoipa::path(get, path = "/webhooks/signup/{source_id}", tag = "intake",
    description = "URL validation for `query` sources (Mailchimp checks a webhook URL with a GET).",
    params(
        ("source_id" = String, Path, description = "The source's `id`"),
        ("key" = String, Query, description = "One of the source's secrets (never logged)")),
    responses(
        (status = 200, description = "The key is one of the source's secrets"),
        (status = 401, description = "`invalid_signature`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no source has this id", body = Problem, content_type = "application/problem+json"),
        (status = 405, description = "`method_not_allowed`: the source is not a `query` source", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: 30 failed verifications from this address within a minute; until `Retry-After`, even the right key is answered 429", body = Problem, content_type = "application/problem+json")
    ))]
#[allow(dead_code)]
fn validate_source_url() {}

#[utoipa::path(get, path = "/signups/{id}", tag = "intake", security(("jwt" = [])),
    params(("id" = String, Path, description = "The signup id")),
    responses(
        (status = 200, description = "The signup, for the source that sent it", body = SignupView),
        (status = 401, description = "`invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such signup for this source", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: the source's `rate_limit`, shared with intake (Retry-After)", body = Problem, content_type = "application/problem+json")
    ))]
#[allow(dead_code)]
fn show_signup() {}

#[utoipa::path(get, path = "/atlassian-connect.json", tag = "connect",
    responses((status = 200, description = "The Connect app descriptor", content_type = "application/json")))]
#[allow(dead_code)]
fn descriptor() {}

#[utoipa::path(post, path = "/lifecycle/installed", tag = "connect",
    responses((status = 204, description = "Installed (signed install: RS256 with kid)"),
        (status = 400, description = "`invalid_payload`: a signed body that is not a usable installation", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_token`; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`: the body did not arrive within `server.request_timeout`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`install_keys_busy`: this client address spent its install-key fetch budget (Retry-After)", body = Problem, content_type = "application/problem+json")))]
#[allow(dead_code)]
fn installed() {}

#[utoipa::path(post, path = "/lifecycle/uninstalled", tag = "connect",
    responses((status = 204, description = "Uninstalled"),
        (status = 401, description = "`invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`: the body did not arrive within `server.request_timeout`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`install_keys_busy`: this client address spent its install-key fetch budget (Retry-After)", body = Problem, content_type = "application/problem+json")))]
#[allow(dead_code)]
fn uninstalled() {}

#[utoipa::path(post, path = "/lifecycle/enabled", tag = "connect",
    responses((status = 204, description = "Enabled (HS256 with the sharedSecret)"),
        (status = 401, description = "`invalid_token` (one detail for every reason)", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`: the body did not arrive within `server.request_timeout`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json")))]
#[allow(dead_code)]
fn enabled() {}

#[utoipa::path(post, path = "/lifecycle/disabled", tag = "connect",
    responses((status = 204, description = "Disabled"),
        (status = 401, description = "`invalid_token` (one detail for every reason)", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`: the body did not arrive within `server.request_timeout`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json")))]
#[allow(dead_code)]
fn disabled() {}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is up")))]
#[allow(dead_code)]
fn healthz() {}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "The database answers and its file is there and writable"),
        (status = 503, description = "`not_ready`: the database does not answer, or its file is missing or read-only", body = Problem, content_type = "application/problem+json")))]
#[allow(dead_code)]
fn readyz() {}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
#[allow(dead_code)]
fn metrics() {}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This document", content_type = "application/json")))]
#[allow(dead_code)]
fn openapi_json() {}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::http::table;

    #[test]
    fn every_registered_route_is_documented_in_openapi_3_1() {
        let doc: Value = serde_json::from_str(&document()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let paths = doc["paths"].as_object().unwrap();
        for route in table() {
            let method = route.method.as_str().to_lowercase();
            assert!(
                paths.get(route.path).and_then(|p| p.get(&method)).is_some(),
                "{} {} undocumented",
                route.method,
                route.path
            );
        }
        let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(
            documented,
            table().len(),
            "the document names a route that is not served"
        );
        let params = doc["paths"]["/webhooks/signup/{source_id}"]["post"]["parameters"]
            .as_array()
            .unwrap();
        for name in [
            "source_id",
            "key",
            "webhook-signature",
            "Stripe-Signature",
            "Typeform-Signature",
            "Tally-Signature",
            "x-webflow-signature",
            "X-HubSpot-Signature-v3",
        ] {
            assert!(params.iter().any(|p| p["name"] == name), "{name}");
        }
        for schema in ["SignupView", "SignupRequest", "Problem", "Step"] {
            assert!(
                doc["components"]["schemas"].get(schema).is_some(),
                "{schema}"
            );
        }
    }
}
