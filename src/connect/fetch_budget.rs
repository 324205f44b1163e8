//! Install-key fetch budgets, one per client address.
//!
//! The claims checked before a key fetch are unsigned, so anyone can make the bridge fetch a
//! random kid. Budgeting per client address keeps such a flood from spending the fetches a
//! real install needs: the sender's own budget runs out (it is answered 503 with
//! `Retry-After`), other addresses keep theirs. The address is the TCP peer — a forwarded
//! header would let a client pick its own budget — so behind a reverse proxy every client
//! shares the proxy's budget. IPv6 addresses count per /64, the block one host usually holds.
//!
//! At most `MAX_CLIENTS` addresses are tracked; when full, the ones whose budget has refilled
//! are forgotten first (they lose nothing), then the least recently seen.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_CLIENTS: usize = 4096;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets of `burst` fetches, refilled at one per `refill`, per client address.
pub struct FetchBudgets {
    burst: f64,
    refill: Duration,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl FetchBudgets {
    pub fn new(burst: u32, refill: Duration) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            refill: refill.max(Duration::from_millis(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Spend one fetch of `client`'s budget, or say how long until it has one again.
    pub fn spend(&self, client: IpAddr) -> Result<(), Duration> {
        self.spend_at(client, Instant::now())
    }

    fn spend_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = budget_key(client);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.contains_key(&key) && buckets.len() >= MAX_CLIENTS {
            self.make_room(&mut buckets, now);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        bucket.tokens = self.refilled(bucket, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(self.refill.mul_f64(1.0 - bucket.tokens))
        }
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let earned =
            now.saturating_duration_since(bucket.at).as_secs_f64() / self.refill.as_secs_f64();
        (bucket.tokens + earned).min(self.burst)
    }

    fn make_room(&self, buckets: &mut HashMap<IpAddr, Bucket>, now: Instant) {
        buckets.retain(|_, b| self.refilled(b, now) < self.burst);
        if buckets.len() >= MAX_CLIENTS
            && let Some(oldest) = buckets.iter().min_by_key(|(_, b)| b.at).map(|(k, _)| *k)
        {
            buckets.remove(&oldest);
        }
    }
}

/// IPv4 (also IPv4-mapped IPv6) as is; other IPv6 by its /64.
fn budget_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_address_spends_its_own_budget_only() {
        let budgets = FetchBudgets::new(3, Duration::from_secs(1));
        let now = Instant::now();
        let (attacker, installer) = (ip("203.0.113.7"), ip("198.51.100.1"));
        for _ in 0..3 {
            assert!(budgets.spend_at(attacker, now).is_ok());
        }
        let wait = budgets.spend_at(attacker, now).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        assert!(budgets.spend_at(installer, now).is_ok());
        // The spent budget refills at one per second.
        let later = now + Duration::from_millis(1500);
        assert!(budgets.spend_at(attacker, later).is_ok());
        let wait = budgets.spend_at(attacker, later).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let budgets = FetchBudgets::new(1, Duration::from_secs(60));
        let now = Instant::now();
        assert!(budgets.spend_at(ip("2001:db8:1:2::1"), now).is_ok());
        assert!(budgets.spend_at(ip("2001:db8:1:2:ffff::9"), now).is_err());
        assert!(budgets.spend_at(ip("2001:db8:1:3::1"), now).is_ok());
        assert!(budgets.spend_at(ip("192.0.2.1"), now).is_ok());
        assert!(budgets.spend_at(ip("::ffff:192.0.2.1"), now).is_err());
    }

    #[test]
    fn the_table_stays_bounded() {
        let budgets = FetchBudgets::new(1, Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 10) {
            let _ = budgets.spend_at(IpAddr::V4(i.into()), now + Duration::from_millis(i.into()));
        }
        assert_eq!(budgets.buckets.lock().unwrap().len(), MAX_CLIENTS);
        // The first addresses were the least recently seen: forgotten, they start afresh.
        assert!(budgets.spend_at(IpAddr::V4(0.into()), now).is_ok());
    }
}
