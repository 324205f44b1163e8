//! OpenTelemetry traces (SPEC §19): the real binary exports to a loopback OTLP/HTTP receiver
//! held by the test; one trace per signup, continuing the sender's `traceparent`, through the
//! commit, the delivery run and the JSM call, which carries `traceparent` to JSM; no personal
//! data or secret in any attribute.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use super::helpers::*;
use super::process::{BridgeProcess, write_config};

type Received = Arc<Mutex<Vec<Span>>>;

/// An OTLP/HTTP receiver on a loopback port: `POST /v1/traces` (protobuf) kept in memory.
async fn start_receiver() -> (String, Received, actix_web::dev::ServerHandle) {
    let received: Received = Arc::default();
    let kept = received.clone();
    let server = HttpServer::new(move || {
        let kept = kept.clone();
        App::new().route(
            "/v1/traces",
            web::post().to(move |body: web::Bytes| {
                let kept = kept.clone();
                async move {
                    let request = ExportTraceServiceRequest::decode(body.as_ref()).unwrap();
                    for resource in request.resource_spans {
                        for scope in resource.scope_spans {
                            kept.lock().unwrap().extend(scope.spans);
                        }
                    }
                    HttpResponse::Ok()
                        .content_type("application/x-protobuf")
                        .finish()
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = format!("http://{}", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (address, received, handle)
}

fn attribute(span: &Span, key: &str) -> Option<AnyValue> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone()?.value)
}

fn text_of(value: &AnyValue) -> String {
    match value {
        AnyValue::StringValue(s) => s.clone(),
        AnyValue::IntValue(i) => i.to_string(),
        AnyValue::BoolValue(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn named<'s>(spans: &'s [Span], name: &str) -> &'s Span {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name:?} among {:?}", names(spans)))
}

fn names(spans: &[Span]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

#[tokio::test]
async fn one_trace_per_signup_continues_the_senders_traceparent_to_jsm() {
    let (receiver, received, receiver_handle) = start_receiver().await;
    let sim = start_sim(sim_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.base_url, "", "");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("\n[telemetry]\notlp_endpoint = \"{receiver}\"\n"));
    std::fs::write(&config, text).unwrap();
    let bridge = BridgeProcess::start(&config).await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let sender_span = "00f067aa0ba902b7";
    let email = "traced.person@example.com";
    let name = "Traced Person";
    let token = token_for(SOURCE, SECRET);
    let response = http_client()
        .post(format!("{}/webhooks/signup", bridge.address))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{trace_id}-{sender_span}-01"))
        .json(&signup_body(email, name))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    // A graceful stop flushes every batched span.
    assert!(bridge.terminate().await.success());

    let spans = received.lock().unwrap().clone();
    receiver_handle.stop(true).await;
    let intake = named(&spans, "POST /webhooks/signup");
    let commit = named(&spans, "commit");
    let run = named(&spans, "delivery run");
    let create = named(&spans, "POST /rest/servicedeskapi/customer");
    for span in [intake, commit, run, create] {
        assert_eq!(
            hex::encode(&span.trace_id),
            trace_id,
            "{} is in the sender's trace",
            span.name
        );
    }
    assert_eq!(hex::encode(&intake.parent_span_id), sender_span);
    assert_eq!(commit.parent_span_id, intake.span_id);
    assert_eq!(
        run.parent_span_id, intake.span_id,
        "the run joins the intake's trace"
    );
    assert_eq!(create.parent_span_id, run.span_id);

    let route = |s: &Span| attribute(s, "http.route").map(|v| text_of(&v));
    let status = |s: &Span| attribute(s, "http.response.status_code").map(|v| text_of(&v));
    assert_eq!(route(intake).as_deref(), Some("/webhooks/signup"));
    assert_eq!(status(intake).as_deref(), Some("201"));
    assert_eq!(
        route(create).as_deref(),
        Some("/rest/servicedeskapi/customer")
    );
    assert_eq!(status(create).as_deref(), Some("201"));
    assert_eq!(
        attribute(create, "signup_bridge.run")
            .map(|v| text_of(&v))
            .as_deref(),
        Some("1")
    );

    // JSM received the JSM call's own context.
    let logged = jsm_requests(&sim, "POST", CUSTOMER_PATH);
    let sent = logged[0]
        .traceparent
        .as_deref()
        .expect("traceparent sent to JSM");
    assert_eq!(
        sent,
        format!("00-{trace_id}-{}-01", hex::encode(&create.span_id))
    );

    // No personal data, token or secret in any attribute or event.
    for span in &spans {
        assert!(span.events.is_empty(), "{} carries log events", span.name);
        for kv in &span.attributes {
            let value = kv.value.clone().and_then(|v| v.value).map(|v| text_of(&v));
            let value = value.unwrap_or_default().to_lowercase();
            for secret in ["traced", "example.com", SECRET, &token, JSM_TOKEN] {
                assert!(
                    !value.contains(&secret.to_lowercase()),
                    "{}: {} = {value}",
                    span.name,
                    kv.key
                );
            }
        }
    }
}

#[tokio::test]
async fn without_an_exporter_no_traceparent_is_sent() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/webhooks/signup", app.address))
        .bearer_auth(app.token())
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&signup_body("quiet@example.com", "Quiet"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let logged = jsm_requests(&app.sim, "POST", CUSTOMER_PATH);
    assert_eq!(
        logged[0].traceparent, None,
        "the sender's context is not forwarded as is"
    );
}
