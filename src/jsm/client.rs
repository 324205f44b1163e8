//! The JSM REST client: typed requests in, typed outcomes out (docs/DECISIONS.md, delivery).
//!
//! Every call carries `requestLanguage=en-US` (SPEC §17: JSM translates its messages to the
//! caller's or the site's language otherwise), inside the signed URL, so the Connect qsh covers
//! it; the only message the bridge reads — the duplicate-email 400 — is then English.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use tracing::Instrument;
use url::Url;

use super::response::{classify, error_message, says_email_exists, transport_error};
use super::{JsmCall, JsmError, OutboundAuth};
use crate::outbound::{MAX_BODY, ReadError, read_capped};

/// Where and how to call one tenant's JSM.
#[derive(Clone)]
pub struct JsmTarget {
    /// The `[[tenants]]` id or installation clientKey (for logs and metrics).
    pub tenant: String,
    /// JSM paths are appended to this URL, never resolved against it.
    pub base_url: Url,
    pub auth: OutboundAuth,
}

impl JsmTarget {
    /// The metrics `tenant` label: installations by a short hash of their clientKey.
    pub fn metrics_label(&self) -> String {
        crate::metrics::tenant_label(&self.tenant, self.auth.is_app())
    }
}

/// What a customer create resolved to.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// JSM made the customer; its body.
    Created(Value),
    /// JSM already has a customer with this email (409, or its duplicate-email 400).
    AlreadyExists,
}

/// A reusable JSM client (one connection pool for every tenant).
#[derive(Clone)]
pub struct JsmClient {
    http: reqwest::Client,
    timeout: Duration,
    near_limit: std::sync::Arc<super::near_limit::NearLimit>,
}

impl JsmClient {
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = crate::outbound::client_builder()
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            timeout,
            near_limit: Default::default(),
        })
    }

    /// `POST /rest/servicedeskapi/customer?strictConflictStatusCode=true`.
    pub async fn create_customer(
        &self,
        target: &JsmTarget,
        email: &str,
        display_name: &str,
    ) -> Result<CreateOutcome, JsmError> {
        let body = json!({"email": email, "displayName": display_name});
        let query = [("strictConflictStatusCode", "true")];
        let response = self
            .send(
                target,
                JsmCall::Create,
                Method::POST,
                "/rest/servicedeskapi/customer",
                &query,
                Some(body),
            )
            .await?;
        match response {
            Answer::Ok(body) => serde_json::from_slice(&body)
                .map(CreateOutcome::Created)
                .map_err(|e| JsmError::InvalidResponse(e.to_string())),
            // The published duplicate answer with strictConflictStatusCode=true.
            Answer::Status(status, _, _) if status == StatusCode::CONFLICT => {
                Ok(CreateOutcome::AlreadyExists)
            }
            Answer::Status(status, headers, body) => {
                let message = error_message(&body);
                if status == StatusCode::BAD_REQUEST && says_email_exists(&message) {
                    return Ok(CreateOutcome::AlreadyExists);
                }
                Err(JsmCall::Create.name(classify(status, &headers, message)))
            }
        }
    }

    /// `POST /rest/servicedeskapi/servicedesk/{id}/customer`.
    pub async fn add_to_service_desk(
        &self,
        target: &JsmTarget,
        desk: &str,
        account_id: &str,
    ) -> Result<(), JsmError> {
        let path = format!(
            "/rest/servicedeskapi/servicedesk/{}/customer",
            segment(desk)
        );
        self.post_account(target, &path, account_id, JsmCall::DeskAdd(desk))
            .await
    }

    /// `POST /rest/servicedeskapi/organization/{id}/user`.
    pub async fn add_to_organization(
        &self,
        target: &JsmTarget,
        org: &str,
        account_id: &str,
    ) -> Result<(), JsmError> {
        let path = format!("/rest/servicedeskapi/organization/{}/user", segment(org));
        self.post_account(target, &path, account_id, JsmCall::OrganizationAdd(org))
            .await
    }

    async fn post_account(
        &self,
        target: &JsmTarget,
        path: &str,
        account_id: &str,
        call: JsmCall<'_>,
    ) -> Result<(), JsmError> {
        let body = json!({"accountIds": [account_id]});
        match self
            .send(target, call, Method::POST, path, &[], Some(body))
            .await?
        {
            Answer::Ok(_) => Ok(()),
            Answer::Status(status, headers, body) => {
                Err(call.name(classify(status, &headers, error_message(&body))))
            }
        }
    }

    /// One JSM call. A 401 to an OAuth token is retried once with a fresh token (the token
    /// may have been revoked or expired early); a second 401 is the caller's to classify.
    /// A 403 to an app is the app's to classify (a permission that may still arrive, or not).
    pub(super) async fn send(
        &self,
        target: &JsmTarget,
        call: JsmCall<'_>,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Answer, JsmError> {
        let mut query = query.to_vec();
        query.push(("requestLanguage", "en-US"));
        let url = jsm_url(&target.base_url, path, &query)?;
        let auth = &target.auth;
        let authorization = auth.authorization(&method, &target.base_url, &url).await?;
        let answer = self
            .send_once(target, call, &method, &url, &authorization, body.as_ref())
            .await?;
        if let (Answer::Status(StatusCode::FORBIDDEN, ..), OutboundAuth::App(app)) = (&answer, auth)
        {
            return Err(call.name(app.forbidden().await));
        }
        match answer {
            Answer::Status(StatusCode::UNAUTHORIZED, ..)
                if auth.invalidate(&authorization).await =>
            {
                let authorization = auth.authorization(&method, &target.base_url, &url).await?;
                self.send_once(target, call, &method, &url, &authorization, body.as_ref())
                    .await
            }
            answer => Ok(answer),
        }
    }

    async fn send_once(
        &self,
        target: &JsmTarget,
        call: JsmCall<'_>,
        method: &Method,
        url: &Url,
        authorization: &str,
        body: Option<&Value>,
    ) -> Result<Answer, JsmError> {
        let span = tracing::info_span!(
            "jsm",
            otel.kind = "client",
            otel.name = %format!("{method} {}", call.route()),
            "http.request.method" = %method,
            "http.route" = call.route(),
            "http.response.status_code" = tracing::field::Empty,
            "signup_bridge.run" = crate::traces::current_run(),
        );
        self.send_request(target, method, url, authorization, body, &span)
            .instrument(span.clone())
            .await
    }

    async fn send_request(
        &self,
        target: &JsmTarget,
        method: &Method,
        url: &Url,
        authorization: &str,
        body: Option<&Value>,
        span: &tracing::Span,
    ) -> Result<Answer, JsmError> {
        let mut trace_headers = header::HeaderMap::new();
        crate::traces::inject(span, &mut trace_headers);
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .timeout(self.timeout)
            .header(header::ACCEPT, "application/json")
            .header("X-ExperimentalApi", "opt-in")
            .header(header::AUTHORIZATION, authorization)
            .headers(trace_headers);
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        span.record("http.response.status_code", status.as_u16());
        let headers = response.headers().clone();
        if headers
            .get("x-ratelimit-nearlimit")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        {
            self.near_limit.seen(&target.metrics_label());
        }
        let bytes = read_capped(response, MAX_BODY).await.map_err(|e| match e {
            ReadError::Http(e) => transport_error(e),
            too_large => JsmError::InvalidResponse(too_large.to_string()),
        })?;
        if status.is_success() {
            Ok(Answer::Ok(bytes))
        } else {
            Ok(Answer::Status(status, headers, bytes))
        }
    }
}

pub(super) enum Answer {
    Ok(Vec<u8>),
    Status(StatusCode, header::HeaderMap, Vec<u8>),
}

/// `base` + `path` + `query`: appended, so a context path (`/jira`) or an API gateway prefix
/// (`/ex/jira/{cloudId}`) is kept.
pub fn jsm_url(base: &Url, path: &str, query: &[(&str, &str)]) -> Result<Url, JsmError> {
    let joined = format!("{}{path}", base.as_str().trim_end_matches('/'));
    let mut url = Url::parse(&joined).map_err(|e| JsmError::Network(format!("bad URL: {e}")))?;
    url.set_query(None);
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

pub(super) fn segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_append_to_the_base_path() {
        let cases = [
            (
                "https://acme.atlassian.net",
                "https://acme.atlassian.net/rest/x",
            ),
            (
                "https://acme.atlassian.net/",
                "https://acme.atlassian.net/rest/x",
            ),
            ("https://x.net/jira", "https://x.net/jira/rest/x"),
            (
                "https://api.atlassian.com/ex/jira/abc-123/",
                "https://api.atlassian.com/ex/jira/abc-123/rest/x",
            ),
        ];
        for (base, want) in cases {
            let url = jsm_url(&Url::parse(base).unwrap(), "/rest/x", &[]).unwrap();
            assert_eq!(url.as_str(), want);
        }
        let url = jsm_url(
            &Url::parse("http://h/jira").unwrap(),
            "/s",
            &[("query", "a+b@x.com")],
        )
        .unwrap();
        assert_eq!(url.as_str(), "http://h/jira/s?query=a%2Bb%40x.com");
    }
}
