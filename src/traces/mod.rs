//! OpenTelemetry traces over OTLP/HTTP (SPEC §19), off unless `[telemetry] otlp_endpoint` or
//! `OTEL_EXPORTER_OTLP_ENDPOINT` names a collector.
//!
//! One trace per signup: the intake span (continuing the sender's W3C `traceparent` when it
//! sends one) with its `commit` child; the trace context is stored with the signup, so every
//! delivery run — on any instance, after any restart — is a child of that intake span, and each
//! JSM call is a child of its run and carries `traceparent` to JSM.
//!
//! Only the spans named in [`EXPORTED`] leave the process, and only with the attributes they
//! are given explicitly; log events never become span events. No attribute holds an email, a
//! name, a token or a secret: spans carry ids (signup, source, tenant), route templates, status
//! codes and run numbers.

mod context;
mod export;

pub use context::{
    RUN, continue_from_headers, continue_from_stored, current_run, inject, traceparent_of,
};
pub use export::{Traces, exporter_layer};

/// The spans exported, by name: everything else stays in the logs.
pub const EXPORTED: &[&str] = &["intake", "commit", "delivery", "jsm"];
