//! The JSM REST client: typed requests in, typed outcomes out (SPEC §7).

use std::time::{Duration, SystemTime};

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use url::Url;

use super::{JsmError, OutboundAuth, parse_retry_after};

/// Where and how to call one tenant's JSM.
#[derive(Clone)]
pub struct JsmTarget {
    /// The `[[tenants]]` id or installation clientKey (for logs and metrics).
    pub tenant: String,
    /// JSM paths are appended to this URL, never resolved against it.
    pub base_url: Url,
    pub auth: OutboundAuth,
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
}

impl JsmClient {
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("signup-bridge/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .build()?;
        Ok(Self { http, timeout })
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
            Answer::Status(status, _, _) if status == StatusCode::CONFLICT => {
                Ok(CreateOutcome::AlreadyExists)
            }
            Answer::Status(status, headers, body) => {
                let message = error_message(&body);
                if status == StatusCode::BAD_REQUEST && says_email_exists(&message) {
                    return Ok(CreateOutcome::AlreadyExists);
                }
                Err(classify(status, &headers, message))
            }
        }
    }

    /// The customer whose email is exactly `email` (case-insensitive), if JSM shows it.
    /// JSM's user search matches prefixes and may hide emails: only an exact match counts, and
    /// a search that shows every email but not this one is an error worth retrying (JSM's
    /// search can lag just behind a create).
    pub async fn find_customer(
        &self,
        target: &JsmTarget,
        email: &str,
    ) -> Result<Option<Value>, JsmError> {
        let query = [("query", email)];
        match self
            .send(target, Method::GET, "/rest/api/3/user/search", &query, None)
            .await?
        {
            Answer::Ok(body) => {
                let users: Vec<Value> = serde_json::from_slice(&body)
                    .map_err(|e| JsmError::InvalidResponse(e.to_string()))?;
                pick_exact(users, email)
            }
            Answer::Status(status, headers, body) => {
                Err(classify(status, &headers, error_message(&body)))
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
        self.post_account(target, &path, account_id).await
    }

    /// `POST /rest/servicedeskapi/organization/{id}/user`.
    pub async fn add_to_organization(
        &self,
        target: &JsmTarget,
        org: &str,
        account_id: &str,
    ) -> Result<(), JsmError> {
        let path = format!("/rest/servicedeskapi/organization/{}/user", segment(org));
        self.post_account(target, &path, account_id).await
    }

    async fn post_account(
        &self,
        target: &JsmTarget,
        path: &str,
        account_id: &str,
    ) -> Result<(), JsmError> {
        let body = json!({"accountIds": [account_id]});
        match self
            .send(target, Method::POST, path, &[], Some(body))
            .await?
        {
            Answer::Ok(_) => Ok(()),
            Answer::Status(status, headers, body) => {
                Err(classify(status, &headers, error_message(&body)))
            }
        }
    }

    /// One JSM call. A 401 to an OAuth token is retried once with a fresh token (the token
    /// may have been revoked or expired early); a second 401 is the caller's to classify.
    async fn send(
        &self,
        target: &JsmTarget,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Answer, JsmError> {
        let url = jsm_url(&target.base_url, path, query)?;
        let auth = &target.auth;
        let authorization = auth.authorization(&method, &target.base_url, &url).await?;
        let answer = self
            .send_once(&method, &url, &authorization, body.as_ref())
            .await?;
        match answer {
            Answer::Status(StatusCode::UNAUTHORIZED, ..)
                if auth.invalidate(&authorization).await =>
            {
                let authorization = auth.authorization(&method, &target.base_url, &url).await?;
                self.send_once(&method, &url, &authorization, body.as_ref())
                    .await
            }
            answer => Ok(answer),
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        authorization: &str,
        body: Option<&Value>,
    ) -> Result<Answer, JsmError> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .timeout(self.timeout)
            .header(header::ACCEPT, "application/json")
            .header("X-ExperimentalApi", "opt-in")
            .header(header::AUTHORIZATION, authorization);
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            Ok(Answer::Ok(bytes.to_vec()))
        } else {
            Ok(Answer::Status(status, headers, bytes.to_vec()))
        }
    }
}

enum Answer {
    Ok(Vec<u8>),
    Status(StatusCode, header::HeaderMap, Vec<u8>),
}

/// The exact match among search results: `Ok(None)` when JSM hides emails (the customer
/// exists but cannot be named), an error when every email is shown and none is this one.
fn pick_exact(users: Vec<Value>, email: &str) -> Result<Option<Value>, JsmError> {
    let shown = |u: &Value| {
        u.get("emailAddress")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let any_hidden = users.iter().any(|u| shown(u).is_none());
    match users
        .into_iter()
        .find(|u| shown(u).is_some_and(|e| e.eq_ignore_ascii_case(email)))
    {
        Some(user) => Ok(Some(user)),
        None if any_hidden => Ok(None),
        None => Err(JsmError::NotFound(Some(
            "JSM reported the email as taken, but its user search does not show it yet".into(),
        ))),
    }
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

fn segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn transport_error(e: reqwest::Error) -> JsmError {
    if e.is_timeout() {
        JsmError::Timeout
    } else {
        let e = e.without_url();
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        JsmError::Network(message)
    }
}

/// JSM's `errorMessage`, else the start of the body.
fn error_message(body: &[u8]) -> Option<String> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        v.get("errorMessage")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                v.get("errorMessages")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
    });
    from_json.or_else(|| {
        let text = String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(200)
            .collect::<String>();
        (!text.is_empty()).then_some(text)
    })
}

/// JSM's duplicate-email 400 (without `strictConflictStatusCode`).
fn says_email_exists(message: &Option<String>) -> bool {
    message.as_deref().is_some_and(|m| {
        let m = m.to_lowercase();
        m.contains("already")
            && (m.contains("exist") || m.contains("in use") || m.contains("taken"))
    })
}

fn classify(status: StatusCode, headers: &header::HeaderMap, message: Option<String>) -> JsmError {
    let retry_after = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    match status.as_u16() {
        401 => JsmError::Unauthorized,
        403 => JsmError::Forbidden,
        404 => JsmError::NotFound(message),
        429 => JsmError::RateLimited { retry_after },
        408 | 500..=599 => JsmError::Server {
            status: status.as_u16(),
            message,
            retry_after,
        },
        other => JsmError::Rejected {
            status: other,
            message: message.unwrap_or_else(|| "no error message".into()),
        },
    }
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

    #[test]
    fn only_an_exact_email_is_the_customer() {
        let users = |emails: &[Option<&str>]| -> Vec<Value> {
            emails
                .iter()
                .map(|e| match e {
                    Some(e) => json!({"accountId": format!("id-{e}"), "emailAddress": e}),
                    None => json!({"accountId": "hidden"}),
                })
                .collect()
        };
        let found = pick_exact(
            users(&[Some("alfred@x.com"), Some("Fred@X.com")]),
            "fred@x.com",
        )
        .unwrap();
        assert_eq!(found.unwrap()["accountId"], "id-Fred@X.com");
        assert_eq!(
            pick_exact(users(&[None, Some("alfred@x.com")]), "fred@x.com").unwrap(),
            None
        );
        assert!(pick_exact(users(&[Some("alfred@x.com")]), "fred@x.com").is_err());
        assert!(pick_exact(vec![], "fred@x.com").is_err());
    }

    #[test]
    fn duplicate_email_messages() {
        assert!(says_email_exists(&Some(
            "An account already exists for this email".into()
        )));
        assert!(says_email_exists(&Some(
            "Email address is already in use.".into()
        )));
        assert!(!says_email_exists(&Some(
            "Enter a valid email address".into()
        )));
        assert!(!says_email_exists(&None));
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let h = header::HeaderMap::new();
        assert_eq!(
            classify(StatusCode::UNAUTHORIZED, &h, None),
            JsmError::Unauthorized
        );
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, &h, None),
            JsmError::Server { status: 502, .. }
        ));
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, &h, Some("bad".into())),
            JsmError::Rejected { status: 400, .. }
        ));
        let mut h = header::HeaderMap::new();
        h.insert(header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, None),
            JsmError::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
    }
}
