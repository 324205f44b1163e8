//! Failed sign-ins per client address: after 5 within a minute, the address gets 429 until the
//! oldest of them is a minute old. Kept in process memory: each instance counts its own (a
//! restart forgets them; the tokens are 32 bytes or more, so guessing stays hopeless).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins allowed per address within [`WINDOW`].
pub const LIMIT: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most (the map never grows without bound).
const MAX_ADDRESSES: usize = 10_000;

/// Recent failed sign-ins by client address.
#[derive(Default)]
pub struct FailedLogins {
    recent: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl FailedLogins {
    /// Seconds until `ip` may try again, when it has spent its failures.
    pub fn blocked(&self, ip: IpAddr) -> Option<u64> {
        self.blocked_at(ip, Instant::now())
    }

    /// Count a failed sign-in of `ip`.
    pub fn record(&self, ip: IpAddr) {
        self.record_at(ip, Instant::now());
    }

    fn blocked_at(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let times = recent.get_mut(&ip)?;
        prune(times, now);
        if times.len() < LIMIT {
            return None;
        }
        let oldest = *times.front()?;
        Some((WINDOW.saturating_sub(now - oldest)).as_secs().max(1))
    }

    fn record_at(&self, ip: IpAddr, now: Instant) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() >= MAX_ADDRESSES && !recent.contains_key(&ip) {
            recent.retain(|_, times| {
                prune(times, now);
                !times.is_empty()
            });
            if recent.len() >= MAX_ADDRESSES {
                // Still full of fresh failures: forget them all rather than grow.
                recent.clear();
            }
        }
        let times = recent.entry(ip).or_default();
        prune(times, now);
        times.push_back(now);
        while times.len() > LIMIT {
            times.pop_front();
        }
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_a_minute_block_the_address_until_the_oldest_ages_out() {
        let limits = FailedLogins::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Instant::now();
        for i in 0..LIMIT {
            assert_eq!(limits.blocked_at(a, start), None, "after {i}");
            limits.record_at(a, start + Duration::from_secs(i as u64));
        }
        let later = start + Duration::from_secs(10);
        assert_eq!(limits.blocked_at(a, later), Some(50));
        assert_eq!(limits.blocked_at(b, later), None);
        assert_eq!(limits.blocked_at(a, start + WINDOW), None);
    }
}
