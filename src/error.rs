//! The HTTP edge's one error type: every rejection becomes RFC 9457 problem+json with a stable
//! `code`. All codes live here, so clients and docs have one list to rely on.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// The domain's validation error, reported in `invalid_payload`.
pub use crate::domain::FieldError;

/// Every error the HTTP API answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is not valid")]
    InvalidPayload(Vec<FieldError>),
    #[error("{0}")]
    InvalidIdempotencyKey(String),
    #[error("{0}")]
    InvalidToken(String),
    /// A sender's signature or static secret did not verify (docs/INTEGRATIONS.md).
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    NotFound(String),
    /// The operator console without a session (an API client; a browser is redirected).
    #[error("{0}")]
    Unauthenticated(String),
    /// A console POST without the session's CSRF token or from another origin.
    #[error("{0}")]
    Forbidden(String),
    #[error("method not allowed; this route answers {allow}")]
    MethodNotAllowed { allow: String },
    #[error("a request with this idempotency key is still being answered")]
    RequestInProgress,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("this idempotency key was used with a different signup")]
    IdempotencyKeyReused,
    /// The source's email-domain policy refuses the address (docs/INTEGRATIONS.md).
    #[error("{0}")]
    EmailDomainNotAllowed(String),
    #[error(
        "too many requests from this source, or too many failed verifications from this address"
    )]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    TenantUnavailable(String),
    /// This instance is storing as many new signups as `server.max_intake_in_flight` allows;
    /// nothing was stored (docs/API.md, "When the instance is full").
    #[error("{0}")]
    Overloaded(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("the service is not ready: {0}")]
    NotReady(String),
    /// A client address spent its install-key fetch budget (not a verdict on its token).
    #[error("too many install key fetches from this address; retry later")]
    InstallKeysBusy { retry_after_secs: u64 },
    /// The database cannot take the request now (disk full, write lock held past the busy
    /// timeout, file read-only or gone); the cause goes to the log. A write it refused stored
    /// nothing; a signup already committed is never answered with it.
    #[error("the database cannot take this request now; retry later")]
    StorageUnavailable(#[source] anyhow::Error),
    /// Anything unexpected; the cause goes to the log, never to the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// The stable snake_case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidPayload(_) => "invalid_payload",
            Self::InvalidIdempotencyKey(_) => "invalid_idempotency_key",
            Self::InvalidToken(_) => "invalid_token",
            Self::InvalidSignature(_) => "invalid_signature",
            Self::NotFound(_) => "not_found",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::RequestInProgress => "request_in_progress",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::EmailDomainNotAllowed(_) => "email_domain_not_allowed",
            Self::RateLimited { .. } => "rate_limited",
            Self::TenantUnavailable(_) => "tenant_unavailable",
            Self::Overloaded(_) => "overloaded",
            Self::RequestTimeout(_) => "request_timeout",
            Self::NotReady(_) => "not_ready",
            Self::InstallKeysBusy { .. } => "install_keys_busy",
            Self::StorageUnavailable(_) => "storage_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::InvalidPayload(_) => "Invalid payload",
            Self::InvalidIdempotencyKey(_) => "Invalid idempotency key",
            Self::InvalidToken(_) => "Invalid token",
            Self::InvalidSignature(_) => "Invalid signature",
            Self::NotFound(_) => "Not found",
            Self::Unauthenticated(_) => "Unauthenticated",
            Self::Forbidden(_) => "Forbidden",
            Self::MethodNotAllowed { .. } => "Method not allowed",
            Self::RequestInProgress => "Request in progress",
            Self::PayloadTooLarge(_) => "Payload too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::EmailDomainNotAllowed(_) => "Email domain not allowed",
            Self::RateLimited { .. } => "Rate limited",
            Self::TenantUnavailable(_) => "Tenant unavailable",
            Self::Overloaded(_) => "Overloaded",
            Self::RequestTimeout(_) => "Request timeout",
            Self::NotReady(_) => "Not ready",
            Self::InstallKeysBusy { .. } => "Install keys busy",
            Self::StorageUnavailable(_) => "Storage unavailable",
            Self::Internal(_) => "Internal error",
        }
    }
}

/// RFC 9457 problem details, with the stable `code`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:signup-bridge:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case error code.
    pub code: String,
    /// Only on `invalid_payload`: which fields, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidPayload(_) | Self::InvalidIdempotencyKey(_) => StatusCode::BAD_REQUEST,
            Self::InvalidToken(_) | Self::InvalidSignature(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::RequestInProgress => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::IdempotencyKeyReused | Self::EmailDomainNotAllowed(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TenantUnavailable(_) | Self::NotReady(_) | Self::Overloaded(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::InstallKeysBusy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::StorageUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        if let Self::StorageUnavailable(cause) = self {
            tracing::error!(
                error = format!("{cause:#}"),
                "the database refused a request"
            );
        }
        let status = self.status_code();
        let errors = match self {
            Self::InvalidPayload(errors) => Some(errors.clone()),
            _ => None,
        };
        let problem = Problem {
            kind: format!("urn:signup-bridge:problem:{}", self.code()),
            title: self.title().to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: self.code().to_string(),
            errors,
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            Self::RequestInProgress | Self::StorageUnavailable(_) | Self::Overloaded(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::RateLimited { retry_after_secs } | Self::InstallKeysBusy { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if storage_unavailable(&e) {
            Self::StorageUnavailable(e.into())
        } else {
            Self::Internal(e.into())
        }
    }
}

/// SQLite's primary result codes for a database that cannot take a request now, but may again
/// without a restart: BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN.
const UNAVAILABLE_CODES: [i64; 6] = [5, 6, 8, 10, 13, 14];

/// PostgreSQL's SQLSTATE classes for a server that cannot serve now: connection exceptions (08),
/// insufficient resources (53: too many clients, disk full), object not in prerequisite state
/// (55: a database not accepting connections, an object in use, a lock not available),
/// operator intervention (57: admin shutdown, terminated backend, cannot connect now) and system
/// errors (58: I/O).
const UNAVAILABLE_CLASSES: [&str; 5] = ["08", "53", "55", "57", "58"];

/// Single SQLSTATEs outside those classes that mean the same: `read_only_sql_transaction` is
/// what a write gets from a standby that a failover left the pool connected to.
const UNAVAILABLE_STATES: [&str; 1] = ["25006"];

/// The fault is the database's state (space, locks, the file, a server restarting or refusing
/// connections, a read-only standby), not the request or the code. Mapped by what failed:
/// getting or keeping a connection (pool, I/O, TLS, the wire protocol, a crashed driver worker)
/// is always "unavailable", whatever the server's message; a statement's error is when its
/// SQLSTATE says the server cannot serve now.
fn storage_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        // Lost to another transaction after the store's own retries: worth a retry later.
        sqlx::Error::Database(_) if crate::store::lost_to_another_transaction(e) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| unavailable_code(&code)),
        _ => false,
    }
}

/// A SQLite result code (decimal) or a PostgreSQL SQLSTATE (five characters) that says the
/// database is unavailable for now.
fn unavailable_code(code: &str) -> bool {
    // SQLite's codes, extended ones included, have at most four digits.
    if code.len() == 5 {
        return UNAVAILABLE_STATES.contains(&code)
            || UNAVAILABLE_CLASSES
                .iter()
                .any(|class| code.starts_with(class));
    }
    code.parse::<i64>()
        .ok()
        // Extended codes keep the primary code in their low byte.
        .is_some_and(|code| UNAVAILABLE_CODES.contains(&(code & 0xff)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_faults_answer_503_and_other_sqlx_errors_500() {
        let cases: [(sqlx::Error, u16, &str); 7] = [
            (sqlx::Error::PoolTimedOut, 503, "storage_unavailable"),
            (
                sqlx::Error::Io(std::io::Error::other("no space left on device")),
                503,
                "storage_unavailable",
            ),
            (sqlx::Error::PoolClosed, 503, "storage_unavailable"),
            (sqlx::Error::WorkerCrashed, 503, "storage_unavailable"),
            (
                sqlx::Error::Protocol("odd".into()),
                503,
                "storage_unavailable",
            ),
            (sqlx::Error::RowNotFound, 500, "internal_error"),
            (
                sqlx::Error::ColumnNotFound("x".into()),
                500,
                "internal_error",
            ),
        ];
        for (error, status, code) in cases {
            let api = ApiError::from(error);
            assert_eq!(api.status_code().as_u16(), status, "{api:?}");
            assert_eq!(api.code(), code);
        }
    }

    #[test]
    fn unavailable_codes_of_both_backends() {
        // SQLite: BUSY, IOERR_WRITE (extended), FULL; PostgreSQL: connection failure, admin
        // shutdown, cannot connect now, disk full. (A deadlock or serialization failure is
        // `store::lost_to_another_transaction`, checked on the error itself.)
        // PostgreSQL also: not accepting connections, too many clients, terminated by an
        // operator, read-only standby, I/O error.
        for code in [
            "5", "778", "13", "08006", "57P01", "57P03", "53100", "55000", "53300", "57P02",
            "25006", "58030",
        ] {
            assert!(unavailable_code(code), "{code}");
        }
        // SQLite: CONSTRAINT_UNIQUE; PostgreSQL: unique violation, syntax error.
        for code in ["2067", "23505", "42601", "25P02", "22001", "not a code"] {
            assert!(!unavailable_code(code), "{code}");
        }
    }

    #[test]
    fn storage_unavailable_and_overloaded_ask_for_a_retry() {
        for error in [
            ApiError::StorageUnavailable(anyhow::anyhow!("disk full")),
            ApiError::Overloaded("full".into()),
        ] {
            let response = error.error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
        }
    }
}
