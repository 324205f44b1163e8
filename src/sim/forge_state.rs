//! What the simulator remembers as the Forge platform: the system tokens it issued, the
//! installs it sent, and its 403 and 429 modes.

use std::time::Duration;

use serde::Deserialize;

/// One issued app system token.
#[derive(Clone)]
pub(crate) struct IssuedToken {
    pub token: String,
    pub cloud_id: String,
    pub expires_at_ms: u64,
}

/// A 429 mode: the next `times` Forge JSM calls answer 429 with this `RateLimit-Reason`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForgeRateLimit {
    pub reason: String,
    #[serde(default = "one")]
    pub times: u32,
    /// `Retry-After` seconds; without it, `X-RateLimit-Reset` is sent instead.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Seconds from now for `X-RateLimit-Reset` (when no `retryAfter`); default 1.
    #[serde(default)]
    pub reset_in: Option<u64>,
}

fn one() -> u32 {
    1
}

/// The Forge platform's part of the simulator state (survives `reset`).
#[derive(Default)]
pub(crate) struct ForgeSim {
    pub tokens: Vec<IssuedToken>,
    /// cloudId → when the last `installed` event was accepted (Unix ms).
    pub installed_at: Vec<(String, u64)>,
    /// 403 for calls within this long after the install.
    pub forbidden_for: Option<Duration>,
    pub rate_limit: Option<ForgeRateLimit>,
    /// Add `X-RateLimit-NearLimit: true` to every Forge JSM answer.
    pub near_limit: bool,
}

impl ForgeSim {
    /// The cloudId a live token was issued for, or why it is refused.
    pub fn token_cloud(&self, token: &str, now_ms: u64) -> Result<&str, &'static str> {
        let issued = self
            .tokens
            .iter()
            .find(|t| t.token == token)
            .ok_or("unknown bearer token")?;
        match issued.expires_at_ms > now_ms {
            true => Ok(&issued.cloud_id),
            false => Err("the system token has expired"),
        }
    }

    pub fn installed_at(&self, cloud_id: &str) -> Option<u64> {
        self.installed_at
            .iter()
            .find(|(c, _)| c == cloud_id)
            .map(|(_, at)| *at)
    }

    pub fn set_installed(&mut self, cloud_id: &str, at: u64) {
        self.installed_at.retain(|(c, _)| c != cloud_id);
        self.installed_at.push((cloud_id.to_string(), at));
    }

    /// Take one 429 of the rate-limit mode, if any is left.
    pub fn take_rate_limit(&mut self) -> Option<ForgeRateLimit> {
        let mode = self.rate_limit.as_mut()?;
        if mode.times == 0 {
            self.rate_limit = None;
            return None;
        }
        mode.times -= 1;
        let taken = mode.clone();
        if mode.times == 0 {
            self.rate_limit = None;
        }
        Some(taken)
    }
}
