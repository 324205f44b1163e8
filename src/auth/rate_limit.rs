//! Per-source rate limits (`[[sources]] rate_limit`).
//!
//! Checked after the token verified, so only a source's own valid tokens spend its budget: a
//! token forged in its name (bad signature) is refused before it reaches the bucket. Each
//! source with a limit has its own GCRA bucket (governor): `burst` requests at once, refilled
//! at `requests_per_second`. The state is in process memory; a restart starts every bucket full.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::config::{Config, RateLimitConfig};

/// A request over its source's limit; retry after this many whole seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub retry_after_secs: u64,
}

/// The rate limiters of every source that has a `rate_limit`.
#[derive(Default)]
pub struct RateLimits {
    limiters: HashMap<String, DefaultDirectRateLimiter>,
    clock: DefaultClock,
}

impl RateLimits {
    pub fn from_config(config: &Config) -> Self {
        let limiters = config
            .sources
            .iter()
            .filter_map(|s| Some((s.id.clone(), limiter(s.rate_limit.as_ref()?)?)))
            .collect();
        Self {
            limiters,
            clock: DefaultClock::default(),
        }
    }

    /// Spend one request of `source_id`'s budget; sources without a limit always pass.
    pub fn check(&self, source_id: &str) -> Result<(), RateLimited> {
        let Some(limiter) = self.limiters.get(source_id) else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            RateLimited {
                retry_after_secs: whole_seconds(wait),
            }
        })
    }
}

/// `None` for a limit validation refuses (0 or not a number): no limiter rather than a panic.
fn limiter(limit: &RateLimitConfig) -> Option<DefaultDirectRateLimiter> {
    let rate = limit.requests_per_second;
    if !rate.is_finite() || rate <= 0.0 {
        return None;
    }
    // One cell every 1/rate seconds; at least 1 ns so an absurd rate stays representable.
    let period = Duration::try_from_secs_f64(1.0 / rate)
        .ok()?
        .max(Duration::from_nanos(1));
    let quota = Quota::with_period(period)?.allow_burst(NonZeroU32::new(limit.burst)?);
    Some(RateLimiter::direct(quota))
}

/// Seconds for `Retry-After`: rounded up, never 0.
fn whole_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(limits: &[(&str, Option<(f64, u32)>)]) -> Config {
        let mut config = Config::default();
        for (id, limit) in limits {
            let mut source: crate::config::SourceConfig =
                toml::from_str(&format!("id = '{id}'\ntenant = 't'\nsecret = 's'")).unwrap();
            source.rate_limit = limit.map(|(requests_per_second, burst)| RateLimitConfig {
                requests_per_second,
                burst,
            });
            config.sources.push(source);
        }
        config
    }

    #[test]
    fn burst_then_limited_per_source() {
        let limits = RateLimits::from_config(&config(&[
            ("slow", Some((0.1, 3))),
            ("fast", Some((1000.0, 1000))),
            ("free", None),
        ]));
        let got: Vec<bool> = (0..4).map(|_| limits.check("slow").is_ok()).collect();
        assert_eq!(got, [true, true, true, false]);
        // One request every 10 s: the next one is 10 s away, whole seconds.
        let limited = limits.check("slow").unwrap_err();
        assert!((9..=10).contains(&limited.retry_after_secs), "{limited:?}");
        for _ in 0..100 {
            assert!(limits.check("fast").is_ok());
            assert!(limits.check("free").is_ok());
            assert!(limits.check("unknown").is_ok());
        }
    }

    #[test]
    fn retry_after_is_whole_seconds_at_least_one() {
        let cases = [
            (Duration::ZERO, 1),
            (Duration::from_millis(1), 1),
            (Duration::from_millis(999), 1),
            (Duration::from_secs(1), 1),
            (Duration::from_millis(1001), 2),
            (Duration::from_secs(30), 30),
        ];
        for (wait, secs) in cases {
            assert_eq!(whole_seconds(wait), secs, "{wait:?}");
        }
    }
}
