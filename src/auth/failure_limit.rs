//! Failed verifications per client address: a source's own route answers 401 for a wrong
//! signature or secret, and `GET ?key=` answers 200 for a right one, so without a limit either
//! is a guessing oracle for a static secret. Each failure spends one cell of the address's
//! GCRA bucket (governor): [`FAILURES_PER_MINUTE`] at once, refilled at that rate. Once a
//! failure finds the bucket empty the address is refused — 429 `rate_limited` with
//! `Retry-After`, before any verification — until a cell is back; its correct requests wait
//! too, which an honest sender's retry absorbs.
//!
//! The address is the TCP peer (a forwarded header would let a client choose its own bucket),
//! IPv6 counted per /64. State is in process memory; a restart starts every bucket full.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::RateLimited;

/// Failed verifications one address may make per minute (and at once).
pub const FAILURES_PER_MINUTE: u32 = 30;
/// Addresses tracked before the forgotten ones are dropped.
const MAX_TRACKED: usize = 4096;

/// Buckets of failed verifications, and the addresses refused until a time.
pub struct FailureLimits {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    refused: Mutex<HashMap<IpAddr, Instant>>,
    clock: DefaultClock,
}

impl Default for FailureLimits {
    fn default() -> Self {
        Self::per_minute(NonZeroU32::new(FAILURES_PER_MINUTE).unwrap_or(NonZeroU32::MIN))
    }
}

impl FailureLimits {
    /// `limit` failures at once, refilled at `limit` a minute.
    pub fn per_minute(limit: NonZeroU32) -> Self {
        Self {
            failures: RateLimiter::keyed(Quota::per_minute(limit)),
            refused: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    /// Whether `client` is refused now (after spending its failures), and for how long.
    pub fn check(&self, client: IpAddr) -> Result<(), RateLimited> {
        let key = address_key(client);
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        match refused.get(&key) {
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    refused.remove(&key);
                    Ok(())
                } else {
                    Err(limited(left))
                }
            }
            None => Ok(()),
        }
    }

    /// Count one failed verification of `client`; the limit when this one exceeded it.
    pub fn failed(&self, client: IpAddr) -> Result<(), RateLimited> {
        let key = address_key(client);
        if self.failures.len() > MAX_TRACKED {
            self.failures.retain_recent();
        }
        let Err(not_until) = self.failures.check_key(&key) else {
            return Ok(());
        };
        let wait = not_until.wait_time_from(self.clock.now());
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        if refused.len() >= MAX_TRACKED {
            let now = Instant::now();
            refused.retain(|_, until| *until > now);
        }
        refused.insert(key, Instant::now() + wait);
        Err(limited(wait))
    }
}

fn limited(wait: Duration) -> RateLimited {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    RateLimited {
        retry_after_secs: secs.max(1),
    }
}

/// IPv4 as is; IPv6 per /64, the block one host usually holds.
fn address_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_limit_refuse_the_address_and_only_it() {
        let limits = FailureLimits::per_minute(NonZeroU32::new(3).unwrap());
        let guesser: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limits.check(guesser), Ok(()));
            assert_eq!(limits.failed(guesser), Ok(()));
        }
        let over = limits.failed(guesser).unwrap_err();
        // One cell a 20 s at 3 a minute.
        assert!((1..=20).contains(&over.retry_after_secs), "{over:?}");
        assert!(limits.check(guesser).is_err(), "refused before verifying");
        assert_eq!(limits.check(other), Ok(()));
        assert_eq!(limits.failed(other), Ok(()));
    }

    #[test]
    fn ipv6_counts_per_64() {
        let limits = FailureLimits::per_minute(NonZeroU32::new(1).unwrap());
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limits.failed(a), Ok(()));
        assert!(limits.failed(b).is_err(), "the same /64");
        assert_eq!(limits.failed(c), Ok(()));
    }
}
