//! The exporter: batches of spans POSTed as OTLP protobuf to `{endpoint}/v1/traces`.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;

use super::EXPORTED;
use crate::telemetry::BoxedLayer;

/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The running exporter; dropping it flushes what is batched (at shutdown).
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Drop for Traces {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("warning: traces not flushed at shutdown: {e}");
        }
    }
}

/// The tracing layer exporting [`EXPORTED`] spans to `endpoint` (a base URL), and the handle
/// that flushes them. Must be called inside the tokio runtime: exports run on it.
pub fn exporter_layer(endpoint: &str, service_name: &str) -> anyhow::Result<(BoxedLayer, Traces)> {
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let http = crate::outbound::client_builder()
        .timeout(EXPORT_TIMEOUT)
        .build()?;
    let client = OnRuntime {
        http,
        runtime: tokio::runtime::Handle::current(),
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .with_timeout(EXPORT_TIMEOUT)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_string())
                .with_attribute(opentelemetry::KeyValue::new(
                    "service.version",
                    env!("CARGO_PKG_VERSION"),
                ))
                .build(),
        )
        .build();
    let tracer = provider.tracer("signup-bridge");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_level(false)
        .with_filter(filter_fn(|meta| {
            meta.is_span()
                && meta.target().starts_with("signup_bridge")
                && EXPORTED.contains(&meta.name())
        }))
        .boxed();
    Ok((layer, Traces { provider }))
}

/// The batch exporter runs on a thread of its own, outside the tokio runtime the HTTP client
/// needs: each export is spawned onto the runtime and awaited from that thread.
#[derive(Debug)]
struct OnRuntime {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let http = self.http.clone();
        let request = reqwest::Request::try_from(request)?;
        self.runtime
            .spawn(async move {
                let response = http.execute(request).await?;
                let status = response.status();
                let headers = response.headers().clone();
                let body =
                    crate::outbound::read_capped(response, crate::outbound::MAX_BODY).await?;
                let mut answer = Response::builder().status(status).body(Bytes::from(body))?;
                *answer.headers_mut() = headers;
                Ok::<_, HttpError>(answer)
            })
            .await?
    }
}
