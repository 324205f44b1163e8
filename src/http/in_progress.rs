//! Keys whose first request has not been answered yet, held in process memory so a crash can
//! never leave a key stuck (409 `request_in_progress`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The set of (source, key) pairs being answered now.
#[derive(Clone, Default)]
pub struct InProgress {
    keys: Arc<Mutex<HashSet<(String, String)>>>,
}

/// Holds a key until dropped (answered, failed or cancelled alike).
pub struct InProgressGuard {
    keys: Arc<Mutex<HashSet<(String, String)>>>,
    key: (String, String),
}

impl InProgress {
    /// Take the key, or `None` when another request holds it.
    pub fn begin(&self, source: &str, key: &str) -> Option<InProgressGuard> {
        let entry = (source.to_string(), key.to_string());
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.insert(entry.clone()).then(|| InProgressGuard {
            keys: Arc::clone(&self.keys),
            key: entry,
        })
    }
}

impl Drop for InProgressGuard {
    fn drop(&mut self) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_held_until_its_guard_drops() {
        let set = InProgress::default();
        let guard = set.begin("s", "k");
        assert!(guard.is_some());
        assert!(set.begin("s", "k").is_none());
        assert!(set.begin("other", "k").is_some());
        drop(guard);
        assert!(set.begin("s", "k").is_some());
    }
}
