//! Intake rejections in the last hour by source and code, for the console's sources page.
//! The database keeps no rejected request (nothing of it is stored), so this count lives in
//! process memory: per instance, reset by a restart; per-minute buckets, an hour deep.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};

use crate::domain::now_ms;

const MINUTE_MS: i64 = 60_000;
const HOUR_MINUTES: i64 = 60;

/// (minute since the epoch, rejections in it), oldest first.
type Series = VecDeque<(i64, u64)>;

/// Rejections by (source, code), in per-minute buckets.
#[derive(Default)]
pub struct RejectionLog {
    buckets: Mutex<HashMap<(String, &'static str), Series>>,
}

/// The process's rejection log (intake writes it, the console reads it).
pub fn rejections() -> &'static RejectionLog {
    static LOG: OnceLock<RejectionLog> = OnceLock::new();
    LOG.get_or_init(RejectionLog::default)
}

impl RejectionLog {
    /// Count one rejection of `source`'s request (`unknown` before a source is known).
    pub fn record(&self, source: &str, code: &'static str) {
        self.record_at(source, code, now_ms());
    }

    /// (code, count) of `source`'s rejections in the last hour, most frequent first.
    pub fn last_hour(&self, source: &str) -> Vec<(&'static str, u64)> {
        self.last_hour_at(source, now_ms())
    }

    fn record_at(&self, source: &str, code: &'static str, now: i64) {
        let minute = now / MINUTE_MS;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let series = buckets.entry((source.to_string(), code)).or_default();
        while series
            .front()
            .is_some_and(|(m, _)| *m <= minute - HOUR_MINUTES)
        {
            series.pop_front();
        }
        match series.back_mut() {
            Some((m, n)) if *m == minute => *n += 1,
            _ => series.push_back((minute, 1)),
        }
    }

    fn last_hour_at(&self, source: &str, now: i64) -> Vec<(&'static str, u64)> {
        let minute = now / MINUTE_MS;
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(&'static str, u64)> = buckets
            .iter()
            .filter(|((s, _), _)| s == source)
            .map(|((_, code), series)| {
                let n = series
                    .iter()
                    .filter(|(m, _)| *m > minute - HOUR_MINUTES)
                    .map(|(_, n)| n)
                    .sum();
                (*code, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_last_hour_by_code() {
        let log = RejectionLog::default();
        let t = 1_000 * HOUR_MINUTES * MINUTE_MS;
        log.record_at("web", "invalid_token", t - HOUR_MINUTES * MINUTE_MS);
        log.record_at("web", "invalid_token", t - 5 * MINUTE_MS);
        log.record_at("web", "invalid_token", t);
        log.record_at("web", "invalid_payload", t);
        log.record_at("other", "invalid_payload", t);
        assert_eq!(
            log.last_hour_at("web", t),
            vec![("invalid_token", 2), ("invalid_payload", 1)]
        );
        assert_eq!(log.last_hour_at("nobody", t), vec![]);
    }
}
