//! JWKS sources against a tiny JWKS server that counts its requests and can fail or stop.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::Jwk;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::helpers::*;
use super::sources::{encoding_key, key, keyless_source, post_with, sign};

const ISS: &str = "idp";

#[derive(Default)]
struct JwksState {
    keys: Mutex<Vec<Value>>,
    hits: AtomicUsize,
    failing: AtomicBool,
}

/// Serves `{"keys": [...]}` on any path (503 while `failing`) until dropped or stopped.
struct JwksServer {
    url: String,
    state: Arc<JwksState>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let state = Arc::new(JwksState::default());
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    state.hits.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = if state.failing.load(Ordering::SeqCst) {
                        ("503 Service Unavailable", "{}".to_string())
                    } else {
                        let keys = state.keys.lock().unwrap().clone();
                        ("200 OK", json!({ "keys": keys }).to_string())
                    };
                    let response = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        Self { url, state, task }
    }

    /// Publish these (kid, algorithm, private key) as the key set.
    fn publish(&self, keys: &[(&str, Algorithm, &str)]) {
        let jwks = keys
            .iter()
            .map(|(kid, alg, pem)| {
                let mut jwk = Jwk::from_encoding_key(&encoding_key(*alg, pem), *alg).unwrap();
                jwk.common.key_id = Some(kid.to_string());
                serde_json::to_value(jwk).unwrap()
            })
            .collect();
        *self.state.keys.lock().unwrap() = jwks;
    }

    fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    async fn wait_for_hits(&self, n: usize) {
        for _ in 0..200 {
            if self.hits() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the JWKS was fetched {} times, expected {n}", self.hits());
    }
}

async fn spawn_with_jwks(jwks: &JwksServer, ttl: Duration, cooldown: Duration) -> TestApp {
    let url = jwks.url.clone();
    spawn_app_with(sim_config(), move |c| {
        c.auth.jwks_cache_ttl = ttl;
        c.auth.jwks_refresh_cooldown = cooldown;
        let mut s = keyless_source(ISS);
        s.jwks_url = Some(url);
        c.sources.push(s);
    })
    .await
}

/// The status of a POST with a token of `kid`, signed with `alg` by `pem`.
async fn status(app: &TestApp, n: &mut u32, kid: &str, alg: Algorithm, pem: &str) -> u16 {
    *n += 1;
    let token = sign(alg, pem, ISS, Some(kid));
    let body = signup_body(&format!("jwks{n}@example.com"), "Jwks User");
    post_with(app, &token, &body).await.0
}

#[tokio::test]
async fn a_rotated_key_is_accepted_after_a_refresh() {
    let jwks = JwksServer::start().await;
    jwks.publish(&[("a", Algorithm::RS256, key!("rsa_a.key"))]);
    let app = spawn_with_jwks(&jwks, Duration::from_secs(600), Duration::from_millis(300)).await;
    let n = &mut 0;
    assert_eq!(
        status(&app, n, "a", Algorithm::RS256, key!("rsa_a.key")).await,
        201
    );
    // Picked by kid: the right algorithm with another key, or an HMAC token, is refused.
    assert_eq!(
        status(&app, n, "a", Algorithm::RS256, key!("rsa_b.key")).await,
        401
    );
    assert_eq!(
        status(&app, n, "a", Algorithm::HS256, key!("rsa_a.pub")).await,
        401
    );
    assert_eq!(
        status(&app, n, "a", Algorithm::ES256, key!("p256_a.key")).await,
        401
    );

    jwks.publish(&[
        ("a", Algorithm::RS256, key!("rsa_a.key")),
        ("b", Algorithm::EdDSA, key!("ed25519_a.key")),
    ]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        status(&app, n, "b", Algorithm::EdDSA, key!("ed25519_a.key")).await,
        201
    );
    // The JWK's alg pins its key to that algorithm.
    assert_eq!(
        status(&app, n, "a", Algorithm::PS256, key!("rsa_a.key")).await,
        401
    );
    assert_eq!(app.creates().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn a_flood_of_unknown_kids_is_not_a_flood_of_fetches() {
    let jwks = JwksServer::start().await;
    jwks.publish(&[("a", Algorithm::ES256, key!("p256_a.key"))]);
    let app = spawn_with_jwks(&jwks, Duration::from_secs(600), Duration::from_secs(600)).await;
    jwks.wait_for_hits(1).await;
    let floods = (0..50).map(|i| {
        let token = sign(
            Algorithm::ES256,
            key!("p256_a.key"),
            ISS,
            Some(&format!("k{i}")),
        );
        let body = signup_body(&format!("flood{i}@example.com"), "Flood");
        let app = &app;
        async move { post_with(app, &token, &body).await.0 }
    });
    let statuses = futures_util::future::join_all(floods).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    let n = &mut 0;
    assert_eq!(
        status(&app, n, "a", Algorithm::ES256, key!("p256_a.key")).await,
        201
    );
    assert_eq!(jwks.hits(), 1, "one fetch at start, none for the flood");
    app.stop().await;
}

#[tokio::test]
async fn cached_keys_keep_working_when_the_jwks_host_goes_down() {
    let mut jwks = JwksServer::start().await;
    jwks.publish(&[("a", Algorithm::PS256, key!("rsa_a.key"))]);
    let app = spawn_with_jwks(
        &jwks,
        Duration::from_millis(200),
        Duration::from_millis(100),
    )
    .await;
    let n = &mut 0;
    assert_eq!(
        status(&app, n, "a", Algorithm::PS256, key!("rsa_a.key")).await,
        201
    );
    jwks.task.abort();
    let _ = (&mut jwks.task).await;
    // The cache is past its TTL: the refresh fails (connection refused) and the keys stay.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        status(&app, n, "a", Algorithm::PS256, key!("rsa_a.key")).await,
        201
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        status(&app, n, "a", Algorithm::PS256, key!("rsa_a.key")).await,
        201
    );
    assert_eq!(
        status(&app, n, "zz", Algorithm::PS256, key!("rsa_a.key")).await,
        401
    );
    app.stop().await;
}

#[tokio::test]
async fn a_jwks_host_down_at_start_does_not_stop_the_service() {
    let jwks = JwksServer::start().await;
    jwks.publish(&[("a", Algorithm::EdDSA, key!("ed25519_a.key"))]);
    jwks.state.failing.store(true, Ordering::SeqCst);
    let app = spawn_with_jwks(&jwks, Duration::from_secs(600), Duration::from_millis(300)).await;
    let n = &mut 0;
    jwks.wait_for_hits(1).await;
    assert_eq!(
        status(&app, n, "a", Algorithm::EdDSA, key!("ed25519_a.key")).await,
        401
    );
    jwks.state.failing.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        status(&app, n, "a", Algorithm::EdDSA, key!("ed25519_a.key")).await,
        201
    );
    assert!(jwks.hits() <= 3, "{} fetches", jwks.hits());
    app.stop().await;
}

super::backends::also_on_postgres!(
    a_rotated_key_is_accepted_after_a_refresh,
    a_flood_of_unknown_kids_is_not_a_flood_of_fetches,
    cached_keys_keep_working_when_the_jwks_host_goes_down,
    a_jwks_host_down_at_start_does_not_stop_the_service
);
