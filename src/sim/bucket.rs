//! Token bucket behind the simulator's 429s.

use super::config::SimRateLimit;
use std::time::Instant;

/// `burst` tokens, refilled continuously at `per_second`; starts full.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    limit: SimRateLimit,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub(crate) fn new(limit: SimRateLimit) -> TokenBucket {
        TokenBucket {
            limit,
            tokens: f64::from(limit.burst),
            refilled_at: Instant::now(),
        }
    }

    /// Takes one token; Err(retry_after_secs) when none is left.
    pub(crate) fn take(&mut self) -> Result<(), u64> {
        self.take_at(Instant::now())
    }

    /// The bucket size and the whole tokens left (for `X-RateLimit-Limit` / `-Remaining`).
    pub(crate) fn headroom(&self) -> (u32, u32) {
        (self.limit.burst, self.tokens.max(0.0).floor() as u32)
    }

    fn take_at(&mut self, now: Instant) -> Result<(), u64> {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        let capacity = f64::from(self.limit.burst);
        self.tokens = (self.tokens + elapsed * self.limit.per_second.max(0.0)).min(capacity);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(self.limit.retry_after_secs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill() {
        let limit = SimRateLimit {
            per_second: 2.0,
            burst: 3,
            retry_after_secs: 7,
        };
        let mut b = TokenBucket::new(limit);
        let t0 = b.refilled_at;
        let got: Vec<_> = (0..4).map(|_| b.take_at(t0)).collect();
        assert_eq!(got, vec![Ok(()), Ok(()), Ok(()), Err(7)]);
        // Half a second at 2/s gives one token back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(b.take_at(t1), Ok(()));
        assert_eq!(b.take_at(t1), Err(7));
        // A long pause refills to `burst`, not beyond.
        let t2 = t1 + Duration::from_secs(60);
        let got: Vec<_> = (0..4).map(|_| b.take_at(t2)).collect();
        assert_eq!(got, vec![Ok(()), Ok(()), Ok(()), Err(7)]);
    }
}
