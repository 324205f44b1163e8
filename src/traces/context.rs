//! W3C trace context: read from a sender, stored with a signup, sent to JSM.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

tokio::task_local! {
    /// The delivery run (the signup's attempt number) the current task works for, so a JSM
    /// call's span can name it without every client call carrying it.
    pub static RUN: u32;
}

/// The delivery run of the current task, if it is one.
pub fn current_run() -> Option<u32> {
    RUN.try_with(|run| *run).ok()
}

struct ActixHeaders<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for ActixHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Make `span` (not yet entered) a child of the sender's `traceparent`, when it sends a valid
/// one; otherwise it stays the root of a new trace.
pub fn continue_from_headers(span: &Span, headers: &actix_web::http::header::HeaderMap) {
    let parent = TraceContextPropagator::new().extract(&ActixHeaders(headers));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

/// Make `span` (not yet entered) a child of a stored `traceparent`.
pub fn continue_from_stored(span: &Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let carrier = HashMap::from([("traceparent".to_string(), traceparent.to_string())]);
    let parent = TraceContextPropagator::new().extract(&carrier);
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

/// The `traceparent` naming `span`, when traces are exported (else `None`).
pub fn traceparent_of(span: &Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

struct ReqwestHeaders<'a>(&'a mut reqwest::header::HeaderMap);

impl Injector for ReqwestHeaders<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(key.as_bytes()),
            reqwest::header::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Add `span`'s `traceparent` (and `tracestate`) to an outbound request's headers.
pub fn inject(span: &Span, headers: &mut reqwest::header::HeaderMap) {
    let context = span.context();
    if context.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&context, &mut ReqwestHeaders(headers));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_an_exporter_nothing_is_propagated() {
        let span = tracing::info_span!("jsm");
        assert_eq!(traceparent_of(&span), None);
        let mut headers = reqwest::header::HeaderMap::new();
        inject(&span, &mut headers);
        assert!(headers.is_empty());
    }
}
