//! The read-only JSM calls of `doctor`: a `GET` built like the delivery client's calls (the
//! outbound policy of `crate::outbound`, the same headers, `requestLanguage=en-US`, the
//! credentials of the tenant's `OutboundAuth`), answered with its status, headers and body.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};

use crate::jsm::{JsmError, JsmTarget, jsm_url};
use crate::outbound::{MAX_BODY, ReadError, read_capped};

/// The language every doctor call asks for, so messages read the same on every site.
pub const REQUEST_LANGUAGE: (&str, &str) = ("requestLanguage", "en-US");

/// What JSM answered.
pub struct Reply {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Vec<u8>,
}

/// Why no answer came.
#[derive(Debug)]
pub enum ProbeError {
    /// No credentials could be made (an OAuth token endpoint refused, a stored secret is gone).
    Credentials(String),
    /// The request never got an HTTP answer; the cause named plainly.
    Transport(String),
}

/// Makes doctor's calls.
pub struct Probe {
    http: reqwest::Client,
    timeout: Duration,
}

impl Probe {
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = crate::outbound::client_builder()
            .connect_timeout(timeout)
            .build()?;
        Ok(Self { http, timeout })
    }

    /// `GET {base}{path}?{query}&requestLanguage=en-US` with the target's credentials.
    pub async fn get(
        &self,
        target: &JsmTarget,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Reply, ProbeError> {
        let mut pairs = query.to_vec();
        pairs.push(REQUEST_LANGUAGE);
        let url = jsm_url(&target.base_url, path, &pairs)
            .map_err(|e| ProbeError::Transport(e.to_string()))?;
        let authorization = target
            .auth
            .authorization(&Method::GET, &target.base_url, &url)
            .await
            .map_err(|e| ProbeError::Credentials(credential_error(e)))?;
        let response = self
            .http
            .get(url.clone())
            .timeout(self.timeout)
            .header(header::ACCEPT, "application/json")
            .header("X-ExperimentalApi", "opt-in")
            .header(header::AUTHORIZATION, authorization)
            .send()
            .await
            .map_err(|e| ProbeError::Transport(transport_error(&e, &url, self.timeout)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_capped(response, MAX_BODY).await.map_err(|e| match e {
            ReadError::Http(e) => ProbeError::Transport(transport_error(&e, &url, self.timeout)),
            too_large => ProbeError::Transport(too_large.to_string()),
        })?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

fn credential_error(e: JsmError) -> String {
    match e {
        JsmError::Auth(message) => message,
        other => other.to_string(),
    }
}

/// A transport failure in the words an admin searches for: connection refused, DNS, TLS,
/// timeout. The error's whole cause chain is read, since reqwest wraps hyper wraps io/rustls.
fn transport_error(e: &reqwest::Error, url: &url::Url, timeout: Duration) -> String {
    let mut chain = Vec::new();
    let mut refused = false;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        chain.push(cause.to_string());
        source = cause.source();
    }
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or_default();
    super::access::name_transport(&chain, refused, e.is_timeout(), host, port, timeout)
}
