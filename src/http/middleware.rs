//! Per-request middleware: a request id (`X-Request-Id` honoured or generated, echoed back)
//! and a tracing span carrying it.

use actix_web::Error;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!("request", request_id = %request_id, method = %req.method(), path = %req.path());
    let mut response = if is_intake(&req) {
        // The root of the signup's trace (see `traces`): a child of the sender's traceparent.
        let intake = tracing::info_span!(
            parent: &span,
            "intake",
            otel.kind = "server",
            otel.name = %format!("POST {}", intake_route(req.path())),
            "http.request.method" = "POST",
            "http.route" = intake_route(req.path()),
            "http.response.status_code" = tracing::field::Empty,
            "signup_bridge.signup_id" = tracing::field::Empty,
            "signup_bridge.source" = tracing::field::Empty,
        );
        crate::traces::continue_from_headers(&intake, req.headers());
        let response = next
            .call(req)
            .instrument(intake.clone())
            .instrument(span)
            .await?;
        intake.record("http.response.status_code", response.status().as_u16());
        response.map_into_boxed_body()
    } else {
        next.call(req).instrument(span).await?.map_into_boxed_body()
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

fn is_intake(req: &ServiceRequest) -> bool {
    req.method() == actix_web::http::Method::POST && req.path().starts_with("/webhooks/signup")
}

/// The route template, never the path itself: no sender-chosen text in a span.
fn intake_route(path: &str) -> &'static str {
    if path.trim_end_matches('/') == "/webhooks/signup" {
        "/webhooks/signup"
    } else {
        "/webhooks/signup/{source_id}"
    }
}
