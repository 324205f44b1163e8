//! Replays of finished signups answered from memory.
//!
//! A `created` or `existing` signup never changes again: `signups retry` refuses it, and the only
//! thing that happens to it is the retention purge, which deletes it once `completed_at` is more
//! than `idempotency.retention` in the past. Until then a replay may be answered from a copy kept
//! here instead of a database read. Entries are trusted only while the row is certain to exist
//! (`updated_at`, which equals `completed_at` for finished rows, plus the retention is still
//! ahead), so a purged key is never answered from memory. `failed` and `pending` signups are never
//! kept: they still change. An entry is trusted for [`FRESH_FOR`] only: `signups erase` (another
//! process) changes finished rows, and a replay must show that within seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::domain::{Signup, SignupStatus, now_ms};

/// At most this many signups are kept; when full, the map starts over (replays are bursty:
/// what matters is the signup being replayed now).
const CAPACITY: usize = 10_000;

/// How long a kept signup answers replays before it is read again (an erase shows after it).
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// Finished signups by (source, key).
pub struct FinishedSignups {
    entries: Mutex<HashMap<(String, String), (Signup, std::time::Instant)>>,
    retention_ms: i64,
}

impl FinishedSignups {
    pub fn new(retention: Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            retention_ms: i64::try_from(retention.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// The finished signup stored under this source's key, while its row is certain to exist.
    pub fn get(&self, source_id: &str, key: &str) -> Option<Signup> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (signup, kept_at) = entries.get(&(source_id.to_string(), key.to_string()))?;
        (kept_at.elapsed() < FRESH_FOR && self.still_stored(signup, now_ms()))
            .then(|| signup.clone())
    }

    /// Keep `signup` if it is finished.
    pub fn remember(&self, signup: &Signup) {
        if !matches!(
            signup.status,
            SignupStatus::Created | SignupStatus::Existing
        ) {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        let key = (signup.source_id.clone(), signup.idempotency_key.clone());
        entries.insert(key, (signup.clone(), std::time::Instant::now()));
    }

    /// The purge deletes a finished row once `completed_at < now - retention`; a second's
    /// margin keeps an answer from racing it.
    fn still_stored(&self, signup: &Signup, now: i64) -> bool {
        signup
            .updated_at
            .saturating_add(self.retention_ms)
            .saturating_sub(1_000)
            > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signup(status: SignupStatus, updated_at: i64) -> Signup {
        Signup {
            id: "id-1".into(),
            source_id: "s".into(),
            idempotency_key: "k".into(),
            fingerprint: "f".into(),
            tenant: "t".into(),
            email: "a@b.co".into(),
            display_name: "A".into(),
            status,
            steps: Vec::new(),
            customer: None,
            attempts: 1,
            attempt_limit: 20,
            last_error: None,
            last_error_detail: None,
            next_attempt_at: 0,
            lease_version: 0,
            created_at: updated_at,
            updated_at,
        }
    }

    #[test]
    fn only_finished_signups_are_kept_and_only_while_their_row_exists() {
        let cache = FinishedSignups::new(Duration::from_secs(3600));
        let now = now_ms();
        cache.remember(&signup(SignupStatus::Pending, now));
        assert!(cache.get("s", "k").is_none(), "pending still changes");
        cache.remember(&signup(SignupStatus::Failed, now));
        assert!(cache.get("s", "k").is_none(), "failed can be retried");
        cache.remember(&signup(SignupStatus::Created, now));
        assert_eq!(cache.get("s", "k").unwrap().status, SignupStatus::Created);
        assert!(
            cache.get("other", "k").is_none(),
            "keys are scoped by source"
        );
        // Finished longer ago than the retention: the purge may have deleted it.
        cache.remember(&signup(SignupStatus::Existing, now - 3_600_000));
        assert!(cache.get("s", "k").is_none());
    }

    #[test]
    fn the_map_is_bounded() {
        let cache = FinishedSignups::new(Duration::from_secs(3600));
        let now = now_ms();
        for i in 0..=CAPACITY {
            let mut s = signup(SignupStatus::Created, now);
            s.idempotency_key = format!("k{i}");
            cache.remember(&s);
        }
        let len = cache.entries.lock().unwrap().len();
        assert!(len <= CAPACITY, "{len}");
        assert!(cache.get("s", &format!("k{CAPACITY}")).is_some());
    }
}
