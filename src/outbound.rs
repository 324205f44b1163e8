//! Outbound HTTP policy (every client the bridge calls out with: JSM, OAuth token endpoints,
//! JWKS, install keys).
//!
//! - No redirects are followed. A redirect would re-send a request (an OAuth `client_secret`
//!   form, a signed JSM call) to a host nobody configured, over plain http too, and would skip
//!   the https check a configured URL passed. A 3xx is therefore an answer like any other
//!   non-2xx, and each caller decides what it means.
//! - Response bodies are read chunk by chunk up to a cap ([`MAX_BODY`], [`MAX_PEM`]) and the
//!   read stops as soon as the cap is passed: a peer that streams without end costs at most
//!   the cap in memory, never the whole stream.
//!
//! Every client is built from [`client_builder`], so a new one cannot forget either rule.

use reqwest::redirect::Policy;

/// The most any outbound response body may hold.
pub const MAX_BODY: usize = 1 << 20;
/// The most an install key (a PEM) may hold.
pub const MAX_PEM: usize = 16 << 10;

/// A client builder with the bridge's user agent and no redirects.
pub fn client_builder() -> reqwest::ClientBuilder {
    // Building a client needs a TLS provider; installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("signup-bridge/", env!("CARGO_PKG_VERSION")))
        .redirect(Policy::none())
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the response body is over {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// The whole body of `response`, or `TooLarge` as soon as it passes `cap` bytes.
pub async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(ReadError::TooLarge(cap));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Err(ReadError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
pub(crate) mod test_server;

#[cfg(test)]
mod tests {
    use super::test_server::{Served, endless_chunked, redirect_to, serve};
    use super::*;

    #[tokio::test]
    async fn an_endless_body_stops_at_the_cap() {
        let endless = endless_chunked().await;
        let response = client_builder()
            .build()
            .unwrap()
            .get(&endless.url)
            .send()
            .await
            .unwrap();
        assert!(matches!(
            read_capped(response, 4096).await,
            Err(ReadError::TooLarge(4096))
        ));
    }

    #[tokio::test]
    async fn bodies_within_the_cap_are_read_whole() {
        let server = serve(Served::Body("hello".into())).await;
        let response = client_builder()
            .build()
            .unwrap()
            .get(&server.url)
            .send()
            .await
            .unwrap();
        assert_eq!(read_capped(response, 5).await.unwrap(), b"hello");
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let target = serve(Served::Body("followed".into())).await;
        let redirect = redirect_to(&target.url).await;
        let response = client_builder()
            .build()
            .unwrap()
            .post(&redirect.url)
            .body("client_secret=x")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 307);
        assert_eq!(target.hits(), 0);
    }
}
