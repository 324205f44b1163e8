//! Simulator tests: a real server on 127.0.0.1:0, driven with reqwest.

mod auth;
mod customers;
mod facts;
mod faults;
mod forge;
mod gateway;
mod installer;
mod issues;
mod log;
mod oauth;

use super::{SimConfig, SimConnect, SimServer};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

const EMAIL: &str = "bot@acme.com";
const API_TOKEN: &str = "api-token-1";
const BEARER: &str = "bearer-token-1";
const APP_KEY: &str = "com.example.signup-bridge";
const SECRET: &str = "connect-shared-secret";
const CREATE: &str = "/rest/servicedeskapi/customer";

fn config() -> SimConfig {
    SimConfig {
        basic: vec![(EMAIL.into(), API_TOKEN.into())],
        bearer_tokens: vec![BEARER.into()],
        connect: Some(SimConnect {
            app_key: APP_KEY.into(),
            shared_secret: SECRET.into(),
        }),
        ..SimConfig::default()
    }
}

async fn start(config: SimConfig) -> SimServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    SimServer::start(config, listener)
        .await
        .expect("simulator starts")
}

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// A create request with the bridge's headers, not yet authenticated.
fn create_req(client: &Client, base: &str, email: &str, strict: bool) -> RequestBuilder {
    let query = if strict {
        "?strictConflictStatusCode=true"
    } else {
        ""
    };
    client
        .post(format!("{base}{CREATE}{query}"))
        .header("Accept", "application/json")
        .header("X-ExperimentalApi", "opt-in")
        .json(&json!({"email": email, "displayName": "Fred F. User"}))
}

/// Creates with Basic auth; returns (status, body).
async fn create(server: &SimServer, email: &str, strict: bool) -> (u16, Value) {
    let resp = create_req(&client(), &server.base_url, email, strict)
        .basic_auth(EMAIL, Some(API_TOKEN))
        .send()
        .await
        .expect("create request");
    status_and_json(resp).await
}

async fn status_and_json(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("response body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, body)
}

/// Asserts the JSM error body shape and returns its errorMessage.
fn jsm_error(body: &Value) -> String {
    let message = body["errorMessage"].as_str().expect("errorMessage");
    assert!(body["i18nErrorMessage"]["i18nKey"].is_string(), "{body}");
    assert!(body["i18nErrorMessage"]["parameters"].is_array(), "{body}");
    message.to_owned()
}
