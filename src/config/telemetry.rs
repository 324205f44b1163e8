//! `[telemetry]`: where traces go (SPEC §19).

use serde::{Deserialize, Serialize};

/// The variable OpenTelemetry's own SDKs read for the collector's base URL.
pub const OTLP_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// A collector's OTLP/HTTP base URL (`http://collector:4318`): traces are POSTed to
    /// `{otlp_endpoint}/v1/traces`. Unset: `OTEL_EXPORTER_OTLP_ENDPOINT`, else no traces.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the exported spans.
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "signup-bridge".into(),
        }
    }
}

impl TelemetryConfig {
    /// The collector's base URL: the key, else the environment variable; `None`: no traces.
    pub fn endpoint(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        self.otlp_endpoint
            .clone()
            .or_else(|| env(OTLP_ENDPOINT_ENV))
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
    }

    /// The endpoint must be an http(s) URL without user-info (credentials belong in headers,
    /// which a collector in front of the bridge adds).
    pub fn validate(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
        let Some(endpoint) = self.endpoint(env) else {
            return Ok(());
        };
        let url = url::Url::parse(&endpoint)
            .map_err(|e| format!("key `telemetry.otlp_endpoint`: not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("key `telemetry.otlp_endpoint`: must be an http or https URL".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("key `telemetry.otlp_endpoint`: must not carry user-info".into());
        }
        if self.service_name.trim().is_empty() {
            return Err("key `telemetry.service_name`: must not be empty".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_wins_over_the_environment_and_both_are_checked() {
        let env =
            |name: &str| (name == OTLP_ENDPOINT_ENV).then(|| "http://from-env:4318".to_string());
        let none = |_: &str| None;
        let mut config = TelemetryConfig::default();
        assert_eq!(config.endpoint(&none), None);
        assert_eq!(
            config.endpoint(&env).as_deref(),
            Some("http://from-env:4318")
        );
        config.otlp_endpoint = Some("http://127.0.0.1:4318".into());
        assert_eq!(
            config.endpoint(&env).as_deref(),
            Some("http://127.0.0.1:4318")
        );
        assert!(config.validate(&none).is_ok());
        for bad in ["ftp://x", "not a url", "http://user:pw@collector:4318"] {
            config.otlp_endpoint = Some(bad.into());
            assert!(config.validate(&none).is_err(), "{bad}");
        }
    }
}
