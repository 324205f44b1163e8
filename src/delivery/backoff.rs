//! Retry delays: exponential from `backoff_base` to `backoff_max` with jitter, never shorter
//! than the `Retry-After` JSM asked for.

use std::time::Duration;

/// The delay before run `attempt + 1`, after `attempt` runs (1-based) have failed.
/// `jitter` in `[0, 1)` spreads the upper half of the window ("equal jitter"), so retries of
/// many signups that failed together do not arrive together.
pub fn retry_delay(
    attempt: u32,
    base: Duration,
    max: Duration,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Duration {
    let exponent = attempt.saturating_sub(1).min(32);
    let ceiling = base
        .checked_mul(1u32 << exponent.min(31))
        .unwrap_or(max)
        .min(max);
    let jitter = jitter.clamp(0.0, 1.0);
    let delay = ceiling / 2 + ceiling.mul_f64(jitter / 2.0);
    delay.max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn exponential_within_bounds() {
        let (base, max) = (S(1), S(900));
        let cases = [
            (1, 0.0, Duration::from_millis(500)),
            (1, 0.999_999, Duration::from_millis(1000)),
            (2, 0.0, S(1)),
            (3, 0.0, S(2)),
            (4, 0.5, S(6)),
            (11, 0.0, S(450)),
            (11, 0.999_999, S(900)),
            (40, 0.0, S(450)),
            (u32::MAX, 0.0, S(450)),
        ];
        for (attempt, jitter, want) in cases {
            let got = retry_delay(attempt, base, max, jitter, None);
            let diff = got.abs_diff(want);
            assert!(
                diff < Duration::from_millis(2),
                "attempt {attempt}: {got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        assert_eq!(retry_delay(1, S(1), S(60), 0.0, Some(S(30))), S(30));
        assert_eq!(retry_delay(8, S(1), S(60), 0.0, Some(S(2))), S(30));
    }

    #[test]
    fn jitter_spreads_within_the_window() {
        let lo = retry_delay(5, S(1), S(900), 0.0, None);
        let hi = retry_delay(5, S(1), S(900), 0.99, None);
        assert!(lo >= S(8) && hi <= S(16) && hi > lo);
    }
}
