//! `POST /webhooks/signup/{source_id}`: a source's own route, for senders that sign the raw
//! body or send a static secret (docs/INTEGRATIONS.md) as well as for JWT sources. `GET` on it answers a
//! `query` source's URL validation (Mailchimp).
//!
//! Checks run in the order docs/API.md gives with the signature in the place of the token: 404 unknown
//! source, 415, 413, 401 `invalid_signature` (`invalid_token` for a JWT source), 429, 400
//! payload (field mapping), 400 key, then the intake steps shared with `/webhooks/signup`. An
//! address past its failed-verification limit (`auth::FailureLimits`) is answered 429 in the
//! place of the signature check, right or wrong.
//! The query string may hold a `query` source's secret: nothing here logs or echoes it.

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::request::{body_format, bounded, public_path, read_body};
use super::signup::{accept, counted, idempotency_key};
use crate::auth::{RequestHead, Sender, SenderRejection, verify_sender};
use crate::config::{SourceConfig, VerifyScheme};
use crate::domain::{FieldMap, IdempotencyKey, Signup, fingerprint};
use crate::error::ApiError;

pub async fn receive(
    req: HttpRequest,
    source_id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let result = bounded(&state, intake(&req, &source_id, payload, &state)).await;
    let label = state
        .config
        .source(&source_id)
        .map_or("unknown", |s| s.id.as_str());
    counted(label, result)
}

/// `GET`: a `query` source's URL check; 200 when the key is one of its secrets.
pub async fn validate(
    req: HttpRequest,
    source_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let source = known_source(&state, &source_id)?;
    if source.verify != VerifyScheme::Query {
        return Err(ApiError::MethodNotAllowed {
            allow: "POST".into(),
        });
    }
    verify(&req, &state, source, b"").await?;
    Ok(HttpResponse::Ok().finish())
}

fn known_source<'s>(state: &'s AppState, id: &str) -> Result<&'s SourceConfig, ApiError> {
    state
        .config
        .source(id)
        .ok_or_else(|| ApiError::NotFound("no source has this id".into()))
}

async fn intake(
    req: &HttpRequest,
    source_id: &str,
    payload: web::Payload,
    state: &AppState,
) -> Result<(HttpResponse, Signup), ApiError> {
    let source = known_source(state, source_id)?;
    let format = body_format(req)?;
    let body = read_body(req, payload, state.config.server.max_body_bytes).await?;
    let sender = verify(req, state, source, &body).await?;
    state.spend_rate_limit(&source.id)?;
    let mapped = FieldMap::for_source(source, format)
        .parse(&body, format)
        .map_err(ApiError::InvalidPayload)?;
    let signup = mapped.signup;
    let print = fingerprint(
        &signup.email.normalized(),
        signup.display_name.as_str(),
        &source.tenant,
    );
    let key = key(req, source.verify, &sender, mapped.key, &print)?;
    accept(state, source, &signup, print, key, sender.token.as_ref()).await
}

/// The order of docs/API.md: `Idempotency-Key`, the scheme's delivery id, the mapped key, the JWT
/// `jti`, the fingerprint. A derived value that breaks the key rule is hashed. An HMAC scheme
/// signs the body but not the header: anyone holding one captured delivery could re-send it under
/// fresh `Idempotency-Key`s and make a new signup each time, so for those schemes the header is
/// ignored and the key comes from signed material only.
fn key(
    req: &HttpRequest,
    scheme: VerifyScheme,
    sender: &Sender,
    mapped: Option<String>,
    print: &str,
) -> Result<IdempotencyKey, ApiError> {
    if !scheme.is_hmac() && req.headers().contains_key("idempotency-key") {
        return idempotency_key(req, None, print);
    }
    match sender.scheme_id.clone().or(mapped) {
        Some(value) => Ok(IdempotencyKey::derived(&value)),
        None if scheme.is_hmac() => Ok(IdempotencyKey::from_fingerprint(print)),
        None => {
            let jti = sender.token.as_ref().and_then(|t| t.jti.as_deref());
            idempotency_key(req, jti, print)
        }
    }
}

async fn verify(
    req: &HttpRequest,
    state: &AppState,
    source: &SourceConfig,
    body: &[u8],
) -> Result<Sender, ApiError> {
    let head = RequestHead {
        method: req.method().as_str(),
        path: public_path(req, state),
        query: req.uri().query().unwrap_or_default(),
        public_url: &state.connect.public_url,
        headers: req.headers(),
    };
    let client = req.peer_addr().map(|a| a.ip());
    let too_many = |l: crate::auth::RateLimited| ApiError::RateLimited {
        retry_after_secs: l.retry_after_secs,
    };
    if let Some(ip) = client {
        state.failures.check(ip).map_err(too_many)?;
    }
    let rejection = match verify_sender(source, &state.verifier, &head, body).await {
        Ok(sender) => return Ok(sender),
        Err(SenderRejection::Token(m)) => ApiError::InvalidToken(m),
        Err(SenderRejection::Signature(m)) => ApiError::InvalidSignature(m),
    };
    // A failure past the address's limit is answered 429 (and so is what follows, for a
    // while): neither 401 nor `GET`'s 200 then tells a guesser anything.
    if let Some(ip) = client {
        state.failures.failed(ip).map_err(too_many)?;
    }
    Err(rejection)
}
