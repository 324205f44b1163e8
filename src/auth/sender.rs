//! Who may send to a source's own route (`POST /webhooks/signup/{source_id}`): one interface
//! over the source's `verify` scheme. A JWT source is verified as on `/webhooks/signup` (docs/API.md, credentials)
//! and its `iss` must be the path's source; every other scheme checks the raw body's signature
//! or the static secret (docs/INTEGRATIONS.md).

use actix_web::http::header::HeaderMap;

use super::signature::{self, Policy, SignedRequest};
use super::{RequestTarget, TokenVerifier, VerifiedToken, bearer_token};
use crate::config::{DEFAULT_TOLERANCE, Secret, SourceConfig};
use crate::domain::now_ms;

/// The head of a request plus where it was addressed.
pub struct RequestHead<'a> {
    pub method: &'a str,
    /// The path relative to `server.public_url`'s own path (a JWT's qsh covers it).
    pub path: &'a str,
    pub query: &'a str,
    /// `server.public_url` without a trailing slash.
    pub public_url: &'a str,
    pub headers: &'a HeaderMap,
}

/// What a verified request tells the intake.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sender {
    /// The scheme's delivery id (Standard Webhooks `webhook-id`).
    pub scheme_id: Option<String>,
    /// The verified token, for JWT sources (its `jti` keys and is bound like on `/webhooks/signup`).
    pub token: Option<VerifiedToken>,
}

/// Why a request was refused: by the token rules or the signature rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderRejection {
    Token(String),
    Signature(String),
}

/// Verify a request to `source`'s route over its exact `body`.
pub async fn verify_sender(
    source: &SourceConfig,
    tokens: &TokenVerifier,
    head: &RequestHead<'_>,
    body: &[u8],
) -> Result<Sender, SenderRejection> {
    if source.verify.is_jwt() {
        return verify_jwt(source, tokens, head).await;
    }
    let secrets: Vec<Secret> = source.hmac_secrets().cloned().collect();
    let uri = signature::signed_uri(head.public_url, head.path, head.query);
    let request = SignedRequest {
        method: head.method,
        public_uri: &uri,
        query: head.query,
        headers: head.headers,
        body,
    };
    let policy = Policy {
        secrets: &secrets,
        tolerance: source.tolerance.unwrap_or(DEFAULT_TOLERANCE),
        now_ms: now_ms(),
        header: source.header.as_deref(),
    };
    signature::verify(source.verify, &request, &policy)
        .map(|scheme_id| Sender {
            scheme_id,
            token: None,
        })
        .map_err(|e| SenderRejection::Signature(e.0))
}

async fn verify_jwt(
    source: &SourceConfig,
    tokens: &TokenVerifier,
    head: &RequestHead<'_>,
) -> Result<Sender, SenderRejection> {
    let reject = |m: &str| SenderRejection::Token(m.to_string());
    let header = head
        .headers
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| reject("an Authorization header with a Bearer token is required"))?
        .to_str()
        .map_err(|_| reject("the Authorization header is not readable"))?;
    let token = bearer_token(header)
        .ok_or_else(|| reject("the Authorization header must be `Bearer <jwt>` or `JWT <jwt>`"))?;
    let target = RequestTarget {
        method: head.method,
        path: head.path,
        query: head.query,
    };
    let verified = tokens
        .verify(token, &target)
        .await
        .map_err(|e| SenderRejection::Token(e.0))?;
    if verified.source_id != source.id {
        return Err(reject("the token's issuer is not this route's source"));
    }
    Ok(Sender {
        scheme_id: None,
        token: Some(verified),
    })
}
