//! Reading what intake needs from a request: media type, bounded body, token.

use actix_web::{HttpRequest, http::header, web};
use futures_util::StreamExt;

use super::AppState;
use crate::auth::{RequestTarget, VerifiedToken, bearer_token, qsh};
use crate::domain::BodyFormat;
use crate::error::ApiError;

/// The body format from `Content-Type`; anything else is 415.
pub fn body_format(req: &HttpRequest) -> Result<BodyFormat, ApiError> {
    let raw = req
        .headers()
        .get(header::CONTENT_TYPE)
        .ok_or_else(|| ApiError::UnsupportedMediaType("a Content-Type header is required".into()))?
        .to_str()
        .unwrap_or_default();
    let essence = raw
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(BodyFormat::Json),
        "application/x-www-form-urlencoded" => Ok(BodyFormat::Form),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {essence:?} is not accepted; send application/json or application/x-www-form-urlencoded"
        ))),
    }
}

/// The whole body, refusing more than `limit` bytes (413) before reading it all.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::InvalidPayload(vec![crate::error::FieldError::new(
                "body",
                format!("could not be read: {e}"),
            )])
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Verify the request's token (header only, never the query).
pub async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<VerifiedToken, ApiError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::InvalidToken("an Authorization header with a Bearer token is required".into())
        })?
        .to_str()
        .map_err(|_| ApiError::InvalidToken("the Authorization header is not readable".into()))?;
    let token = bearer_token(header).ok_or_else(|| {
        ApiError::InvalidToken(
            "the Authorization header must be `Bearer <jwt>` or `JWT <jwt>`".into(),
        )
    })?;
    let target = RequestTarget {
        method: req.method().as_str(),
        path: public_path(req, state),
        query: req.uri().query().unwrap_or_default(),
    };
    state
        .verifier
        .verify(token, &target)
        .await
        .map_err(|e| ApiError::InvalidToken(e.0))
}

/// The request path as the sender saw it under `server.public_url`: relative to that URL's own
/// path when the proxy kept the prefix, the path as received when it stripped it.
pub fn public_path<'r>(req: &'r HttpRequest, state: &AppState) -> &'r str {
    let path = req.uri().path();
    qsh::relative_path(&state.public_base_path, path).unwrap_or(path)
}

/// `server.request_timeout` bounds `work`: past it the answer is 408 `request_timeout`. What
/// `work` committed before that stays committed (a signup stays queued; a retry is a replay).
pub async fn bounded<T>(
    state: &AppState,
    work: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let timeout = state.config.server.request_timeout;
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::RequestTimeout(format!(
                "the request took longer than {}",
                humantime::format_duration(timeout)
            )))
        })
}
