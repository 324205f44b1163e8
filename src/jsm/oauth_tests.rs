use super::*;
use crate::outbound::test_server::{Served, endless_chunked, redirect_to, serve};

fn source(token_url: &str) -> OAuthTokenSource {
    OAuthTokenSource::new(
        "id".into(),
        Secret::new("client-secret-value"),
        token_url.into(),
        Duration::from_secs(5),
    )
    .unwrap()
}

#[tokio::test]
async fn a_redirecting_token_endpoint_is_not_followed() {
    let target = serve(Served::Body(
        r#"{"access_token":"t","token_type":"Bearer"}"#.into(),
    ))
    .await;
    let redirect = redirect_to(&target.url).await;
    let Err(JsmError::Auth(message)) = source(&redirect.url).token().await else {
        panic!("a redirect gave a token");
    };
    assert!(message.contains("307"), "{message}");
    assert!(!message.contains("client-secret-value"), "{message}");
    assert_eq!(redirect.hits(), 1);
    assert_eq!(target.hits(), 0);
}

#[tokio::test]
async fn an_endless_token_response_is_cut_at_the_cap() {
    let endless = endless_chunked().await;
    let Err(JsmError::Auth(message)) = source(&endless.url).token().await else {
        panic!("an endless body gave a token");
    };
    assert!(message.contains("over 1048576 bytes"), "{message}");
}

#[test]
fn tokens_are_refreshed_shortly_before_they_expire() {
    let cases = [
        (Some(3600), 3540), // margin capped at 60 s
        (Some(600), 540),   // 10 % is exactly 60 s
        (Some(300), 270),   // 10 %
        (Some(2), 1),       // 10 % of 2 s is 200 ms, leaving 1.8 s (whole seconds below)
        (Some(0), 0),
        (None, 270), // DEFAULT_EXPIRES_IN minus 10 %
    ];
    for (expires_in, secs) in cases {
        assert_eq!(cache_for(expires_in).as_secs(), secs, "{expires_in:?}");
    }
    assert_eq!(cache_for(Some(2)), Duration::from_millis(1800));
}

#[test]
fn token_responses_parse() {
    let (token, expires) = parse_token_response(
        br#"{"access_token":"abc","token_type":"Bearer","expires_in":3600,"scope":"x"}"#,
    )
    .unwrap();
    assert_eq!((token.expose(), expires), ("abc", Some(3600)));
    let (_, expires) =
        parse_token_response(br#"{"access_token":"abc","token_type":"bearer"}"#).unwrap();
    assert_eq!(expires, None);
}

#[test]
fn bad_token_responses_are_auth_errors_without_the_token() {
    let cases: [(&[u8], &str); 5] = [
        (b"not json", "unexpected body"),
        (br#"{"token_type":"Bearer"}"#, "access_token"),
        (
            br#"{"access_token":"s3cr3t-tok","token_type":"mac"}"#,
            "not a Bearer token",
        ),
        (
            br#"{"access_token":"","token_type":"Bearer"}"#,
            "empty token",
        ),
        (
            br#"{"access_token":"s3cr3t-tok","token_type":"Bearer","expires_in":"soon"}"#,
            "unexpected body",
        ),
    ];
    for (body, want) in cases {
        let Err(JsmError::Auth(message)) = parse_token_response(body) else {
            panic!("{} parsed", String::from_utf8_lossy(body));
        };
        assert!(message.contains(want), "{message}");
        assert!(!message.contains("s3cr3t-tok"), "{message}");
        assert!(JsmError::Auth(message).is_retryable());
    }
}

#[test]
fn refusals_name_the_status_and_oauth_error() {
    let message = endpoint_refusal(401, br#"{"error":"invalid_client"}"#);
    assert!(message.contains("401: invalid_client;"), "{message}");
    let message = endpoint_refusal(
        400,
        br#"{"error":"invalid_request","error_description":"no grant"}"#,
    );
    assert!(
        message.contains("400: invalid_request (no grant)"),
        "{message}"
    );
    let message = endpoint_refusal(502, b"<html>bad gateway</html>");
    assert!(
        message.starts_with("token endpoint answered 502;"),
        "{message}"
    );
}
