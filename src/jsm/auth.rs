//! Outbound authentication to JSM, resolved per call so a rotated credential (a re-install's
//! new sharedSecret, a refreshed OAuth token, a newer Forge system token) is used by the next
//! request.
//!
//! Credentials held in the configuration (Basic, Bearer, OAuth client credentials) live here.
//! Credentials of an app installation (Connect, Forge) live in the database, which this module
//! does not know: the delivery side hands the client an [`AppCredentials`] that finds them.
//!
//! Connect: `Authorization: JWT <token>`, HS256 with the installation's sharedSecret, `iss` =
//! the app key, `iat`, `exp` = iat + 180 s, and `qsh` over the method, the URL's path relative
//! to the installation baseUrl's own path (`https://x.atlassian.net/jira` → `/rest/...`) and
//! the URL's query ([`connect_token`]). Forge: `Authorization: Bearer <app system token>`.
//!
//! OAuth client credentials: `Authorization: Bearer <access token>` from the tenant's
//! [`OAuthTokenSource`] (see `oauth` for its caching); after a 401 the client calls
//! [`OutboundAuth::invalidate`] and retries once.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::Method;
use serde::Serialize;
use url::Url;

use super::JsmError;
use super::oauth::OAuthTokenSource;
use crate::auth::qsh;
use crate::config::Secret;

/// How long an outbound Connect JWT is valid.
pub const CONNECT_TOKEN_SECS: i64 = 180;

/// The credentials of an app installation, as the delivery side provides them.
pub trait AppCredentials: Send + Sync {
    /// The `Authorization` header value for `method` on `url` (a URL under `base`).
    fn authorization<'a>(
        &'a self,
        method: &'a Method,
        base: &'a Url,
        url: &'a Url,
    ) -> BoxFuture<'a, Result<String, JsmError>>;

    /// JSM answered 401 to `authorization`: forget what must be forgotten, and say whether
    /// a retry with fresh credentials may succeed now.
    fn refused<'a>(&'a self, authorization: &'a str) -> BoxFuture<'a, bool>;

    /// JSM answered 403: the error to record (an app may know the permission is missing for
    /// good, or that it may still arrive).
    fn forbidden(&self) -> BoxFuture<'_, JsmError> {
        Box::pin(async { JsmError::Forbidden })
    }
}

/// How one tenant's calls are authorised.
#[derive(Clone)]
pub enum OutboundAuth {
    /// Atlassian account email and API token.
    Basic { email: String, api_token: Secret },
    /// A static bearer token.
    Bearer { token: Secret },
    /// OAuth 2.0 client credentials; one token source shared by every call of the tenant.
    OAuth(Arc<OAuthTokenSource>),
    /// As an app installation (Connect or Forge), through the delivery side's provider.
    App(Arc<dyn AppCredentials>),
}

#[derive(Serialize)]
struct ConnectClaims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    qsh: String,
}

impl OutboundAuth {
    /// The `Authorization` header value for `method` on `url` (a URL under `base`).
    pub async fn authorization(
        &self,
        method: &Method,
        base: &Url,
        url: &Url,
    ) -> Result<String, JsmError> {
        use base64::Engine as _;
        Ok(match self {
            Self::Basic { email, api_token } => {
                let raw = format!("{email}:{}", api_token.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
            Self::Bearer { token } => format!("Bearer {}", token.expose()),
            Self::OAuth(source) => format!("Bearer {}", source.token().await?.expose()),
            Self::App(app) => app.authorization(method, base, url).await?,
        })
    }

    /// JSM answered 401 to a call sent with `authorization`. For OAuth, forget that token
    /// and return true: a retry with a fresh token may succeed. An app decides for itself;
    /// other credentials would be refused again, so false.
    pub async fn invalidate(&self, authorization: &str) -> bool {
        match self {
            Self::OAuth(source) => {
                if let Some(token) = authorization.strip_prefix("Bearer ") {
                    source.invalidate(token).await;
                }
                true
            }
            Self::App(app) => app.refused(authorization).await,
            Self::Basic { .. } | Self::Bearer { .. } => false,
        }
    }

    /// Whether the calls are made as an app (Connect or Forge): an app's points-based quota
    /// is shared by every installation.
    pub fn is_app(&self) -> bool {
        matches!(self, Self::App(_))
    }
}

/// The Connect JWT for one request, issued at `iat` (Unix seconds).
pub fn connect_token(
    app_key: &str,
    secret: &Secret,
    method: &Method,
    base: &Url,
    url: &Url,
    iat: i64,
) -> Result<String, JsmError> {
    let path = qsh::relative_path(base.path(), url.path()).ok_or_else(|| {
        JsmError::Auth("the request URL is not under the tenant's base URL".into())
    })?;
    let claims = ConnectClaims {
        iss: app_key,
        iat,
        exp: iat + CONNECT_TOKEN_SECS,
        qsh: qsh::qsh(method.as_str(), path, url.query().unwrap_or_default()),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )
    .map_err(|e| JsmError::Auth(format!("cannot sign the Connect JWT: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsm::jsm_url;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    #[derive(serde::Deserialize)]
    struct Claims {
        iss: String,
        iat: i64,
        exp: i64,
        qsh: String,
    }

    fn claims(base: &str, method: Method, path: &str, query: &[(&str, &str)]) -> Claims {
        let base = Url::parse(base).unwrap();
        let url = jsm_url(&base, path, query).unwrap();
        let secret = Secret::new("shh");
        let token = connect_token("app.key", &secret, &method, &base, &url, 1_000).unwrap();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["iss"]);
        decode::<Claims>(&token, &DecodingKey::from_secret(b"shh"), &validation)
            .unwrap()
            .claims
    }

    const CREATE_QSH: &str = "4ff08937aeccd4fce54201618b35f296106c647a59087abe464feeba861feb91";

    #[test]
    fn qsh_is_over_the_path_relative_to_the_base_path() {
        let query = [("strictConflictStatusCode", "true")];
        for base in [
            "https://x.atlassian.net/jira",
            "https://x.atlassian.net/jira/",
            "https://x.atlassian.net",
            "https://x.atlassian.net/",
        ] {
            let c = claims(base, Method::POST, "/rest/servicedeskapi/customer", &query);
            assert_eq!(c.qsh, CREATE_QSH, "{base}");
            assert_eq!((c.iss.as_str(), c.iat, c.exp), ("app.key", 1_000, 1_180));
        }
    }

    #[test]
    fn qsh_covers_the_final_query() {
        let c = claims(
            "https://x.atlassian.net/jira",
            Method::GET,
            "/rest/api/3/user/search",
            &[("query", "fred+x@example.com")],
        );
        let expected = qsh::qsh(
            "GET",
            "/rest/api/3/user/search",
            "query=fred%2Bx%40example.com",
        );
        assert_eq!(c.qsh, expected);
        assert_eq!(
            qsh::canonical_request(
                "GET",
                "/rest/api/3/user/search",
                "query=fred%2Bx%40example.com"
            ),
            "GET&/rest/api/3/user/search&query=fred%2Bx%40example.com"
        );
    }

    #[test]
    fn the_jql_search_is_signed_over_its_canonical_query() {
        let jql = crate::jsm::welcome_jql("qm:1-a", "sbw1");
        let query = [
            ("jql", jql.as_str()),
            ("fields", "*all"),
            ("maxResults", "10"),
            ("requestLanguage", "en-US"),
        ];
        let c = claims(
            "https://x.atlassian.net/jira",
            Method::GET,
            "/rest/api/3/search/jql",
            &query,
        );
        // Written by hand from the qsh rules: keys sorted, RFC 3986 encoding (a space is %20,
        // `~` stays, `*` is %2A), whatever form encoding the URL used (`+`, `%7E`, a raw `*`).
        let canonical = "GET&/rest/api/3/search/jql&fields=%2Aall&jql=reporter%20%3D%20%22qm%3A1-a\
                         %22%20AND%20description%20~%20%22sbw1%22&maxResults=10&requestLanguage=en-US";
        let expected = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(canonical.as_bytes()));
        assert_eq!(c.qsh, expected);
    }

    #[test]
    fn a_url_outside_the_base_is_refused() {
        let base = Url::parse("https://x.atlassian.net/jira").unwrap();
        let url = Url::parse("https://x.atlassian.net/other/rest").unwrap();
        let secret = Secret::new("shh");
        assert!(connect_token("k", &secret, &Method::GET, &base, &url, 0).is_err());
    }
}
