//! Outbound authentication to JSM, resolved per call so a rotated credential (a re-install's
//! new sharedSecret, a refreshed OAuth token) is used by the next request. It signs the final
//! URL, which Connect's qsh needs.

use reqwest::Method;
use url::Url;

use super::JsmError;
use crate::config::Secret;

/// How one tenant's calls are authorised.
#[derive(Clone)]
pub enum OutboundAuth {
    /// Atlassian account email and API token.
    Basic { email: String, api_token: Secret },
    /// A static bearer token.
    Bearer { token: Secret },
}

impl OutboundAuth {
    /// The `Authorization` header value for `method` on `url` (a URL under `base`).
    pub async fn authorization(
        &self,
        _method: &Method,
        _base: &Url,
        _url: &Url,
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
        })
    }
}
