//! `signup-bridge sign`: sign a body file the way the source's sender would, so a source can be
//! tried with curl before the tool is wired. Like `token`, it prints a secret-derived value on
//! purpose (for `header` and `query` sources, the secret itself).

use std::path::Path;

use super::UsageError;
use crate::auth::mint_hs256;
use crate::auth::signature::{self, sign::sign as sign_as_sender};
use crate::config::{Config, SourceConfig, VerifyScheme};
use crate::domain::now_ms;

/// A fixed delivery id and signing time, to repeat a delivery the way a sender retries it.
#[derive(Debug, Default, Clone)]
pub struct Fixed {
    /// `webhook-id` of a Standard Webhooks source; an `Idempotency-Key` header for any other.
    pub id: Option<String>,
    /// Unix seconds of the signature (schemes that sign a timestamp).
    pub timestamp: Option<i64>,
}

/// Print the headers (or, with `curl`, one curl line) for `body_file` sent to `source_id`.
pub fn sign(
    config: &Config,
    source_id: &str,
    body_file: &Path,
    curl: Option<&str>,
    fixed: &Fixed,
) -> anyhow::Result<()> {
    let source = config
        .source(source_id)
        .ok_or_else(|| UsageError(format!("no source {source_id:?} in the configuration")))?;
    let body = std::fs::read(body_file)
        .map_err(|e| UsageError(format!("--body {}: {e}", body_file.display())))?;
    let url = match curl {
        Some(url) => url.to_string(),
        None => format!("{}/webhooks/signup/{}", public_url(config), source.id),
    };
    let (headers, url) = signed(config, source, &body, &url, fixed)?;
    match curl {
        None => {
            for (name, value) in &headers {
                println!("{name}: {value}");
            }
            if headers.is_empty() {
                println!("URL: {url}");
            }
        }
        Some(_) => println!("{}", curl_line(&url, &headers, &body, body_file)),
    }
    Ok(())
}

/// The headers to add and the URL to call (with `?key=` for `query` sources).
fn signed(
    config: &Config,
    source: &SourceConfig,
    body: &[u8],
    url: &str,
    fixed: &Fixed,
) -> anyhow::Result<(Vec<(String, String)>, String)> {
    let timestamped = matches!(
        source.verify,
        VerifyScheme::StandardWebhooks
            | VerifyScheme::Stripe
            | VerifyScheme::Webflow
            | VerifyScheme::HubspotV3
    );
    if fixed.timestamp.is_some() && !timestamped {
        return Err(UsageError(format!(
            "--timestamp: source {:?} (verify = {}) signs no timestamp; it applies to \
             standard-webhooks, stripe, webflow and hubspot-v3 sources",
            source.id,
            source.verify.as_str()
        ))
        .into());
    }
    let mut headers = signed_headers(config, source, body, url, fixed)?;
    // Schemes without a delivery id repeat a delivery through the Idempotency-Key header.
    if let Some(id) = fixed
        .id
        .as_ref()
        .filter(|_| source.verify != VerifyScheme::StandardWebhooks)
    {
        headers.0.push(("Idempotency-Key".into(), id.clone()));
    }
    Ok(headers)
}

fn signed_headers(
    config: &Config,
    source: &SourceConfig,
    body: &[u8],
    url: &str,
    fixed: &Fixed,
) -> anyhow::Result<(Vec<(String, String)>, String)> {
    if source.verify.is_jwt() {
        let secret = source.hmac_secrets().next().ok_or_else(|| {
            UsageError(format!(
                "source {:?} has no HMAC secret; only HMAC JWT sources can be signed here",
                source.id
            ))
        })?;
        let token = mint_hs256(
            secret.expose(),
            &source.id,
            config.auth.max_token_lifetime,
            None,
            source.audience.as_deref(),
        )?;
        return Ok((
            vec![("Authorization".into(), format!("Bearer {token}"))],
            url.into(),
        ));
    }
    // HubSpot signs the URL it calls, with a few escapes decoded.
    let signed_url = signature::signed_uri(url, "", "");
    let delivery_id = fixed
        .id
        .clone()
        .unwrap_or_else(|| format!("msg_{}", uuid::Uuid::new_v4().simple()));
    let at = fixed
        .timestamp
        .map_or_else(now_ms, |secs| secs.saturating_mul(1000));
    let signature = sign_as_sender(source, body, at, &signed_url, &delivery_id)
        .map_err(|e| UsageError(format!("source {:?}: {e}", source.id)))?;
    let url = match signature.query {
        Some(query) if url.contains('?') => format!("{url}&{query}"),
        Some(query) => format!("{url}?{query}"),
        None => url.to_string(),
    };
    Ok((signature.headers, url))
}

fn public_url(config: &Config) -> String {
    config
        .server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.server.listen))
        .trim_end_matches('/')
        .to_string()
}

/// A ready-to-paste curl line; the body goes as the file's exact bytes.
fn curl_line(url: &str, headers: &[(String, String)], body: &[u8], file: &Path) -> String {
    let json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['));
    let content_type = if json {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let mut line = format!(
        "curl -sS -i -X POST {} -H {}",
        quote(url),
        quote(&format!("Content-Type: {content_type}"))
    );
    for (name, value) in headers {
        line.push_str(&format!(" -H {}", quote(&format!("{name}: {value}"))));
    }
    line.push_str(&format!(
        " --data-binary {}",
        quote(&format!("@{}", file.display()))
    ));
    line
}

/// Single-quoted for a POSIX shell.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_lines_quote_for_the_shell() {
        let headers = vec![("Tally-Signature".to_string(), "a'b".to_string())];
        let line = curl_line("http://h/w?key=x", &headers, b" {}", Path::new("b.json"));
        assert_eq!(
            line,
            "curl -sS -i -X POST 'http://h/w?key=x' -H 'Content-Type: application/json' \
             -H 'Tally-Signature: a'\\''b' --data-binary '@b.json'"
        );
        let form = curl_line("http://h/w", &[], b"a=1", Path::new("f"));
        assert!(form.contains("application/x-www-form-urlencoded"), "{form}");
    }
}
