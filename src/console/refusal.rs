//! How the console refuses: a browser without a session is sent to the login page (303); an
//! API client (`Accept: application/json`) gets 401 problem+json; other refusals are the
//! service's problem+json with their stable codes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, http::header};

use crate::error::ApiError;

/// Why the console does not serve a request.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("sign in to the console first")]
    NoSession { wants_json: bool },
    /// A POST without the session's CSRF token or from another origin: nothing changed.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl Refusal {
    /// No session: redirect or 401, by what the client asked for.
    pub fn no_session(req: &HttpRequest) -> Self {
        Self::NoSession {
            wants_json: wants_json(req),
        }
    }

    fn api_error(&self) -> Option<ApiError> {
        match self {
            Self::NoSession { wants_json: true } => Some(ApiError::Unauthenticated(
                "sign in to the console first".into(),
            )),
            Self::NoSession { wants_json: false } => None,
            Self::Forbidden(why) => Some(ApiError::Forbidden((*why).into())),
            Self::NotFound(what) => Some(ApiError::NotFound(what.clone())),
            Self::Internal(e) => Some(ApiError::Internal(anyhow::anyhow!("{e:#}"))),
        }
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<askama::Error> for Refusal {
    fn from(e: askama::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        match self.api_error() {
            Some(e) => e.status_code(),
            None => StatusCode::SEE_OTHER,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self.api_error() {
            Some(e) => e.error_response(),
            None => see_other("/console/login"),
        }
    }
}

/// 303 to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// True when the client asked for JSON rather than a page.
pub fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") || v.contains("application/problem+json"))
}

/// Unknown console paths: 404 problem+json.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such console page".into()))
}

/// Another method on a console path: 405 problem+json with `Allow`.
pub async fn method_not_allowed(allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        allow: allow.into(),
    })
}
