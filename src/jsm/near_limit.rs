//! `X-RateLimit-NearLimit: true`: JSM warns that the app's points-based quota is nearly spent.
//! Every warning is counted; it is logged at most once per window per tenant, so a busy
//! tenant near its limit does not flood the log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often one tenant's warning is logged.
pub const LOG_WINDOW: Duration = Duration::from_secs(60);

/// When each tenant's warning was last logged.
#[derive(Default)]
pub struct NearLimit {
    logged: Mutex<HashMap<String, Instant>>,
}

impl NearLimit {
    /// A response carried the warning; `tenant` is a metrics label. True when logged.
    pub fn seen(&self, tenant: &str) -> bool {
        crate::metrics::near_limit(tenant);
        let now = Instant::now();
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        let due = logged
            .get(tenant)
            .is_none_or(|at| now.duration_since(*at) >= LOG_WINDOW);
        if due {
            logged.insert(tenant.to_string(), now);
            tracing::warn!(
                tenant,
                "JSM says the app is near its rate limit (X-RateLimit-NearLimit)"
            );
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_once_per_window_per_tenant() {
        let near = NearLimit::default();
        assert!(near.seen("inst-aaaa"));
        assert!(!near.seen("inst-aaaa"), "same window");
        assert!(near.seen("inst-bbbb"), "another tenant");
        near.logged
            .lock()
            .unwrap()
            .insert("inst-aaaa".into(), Instant::now() - LOG_WINDOW);
        assert!(near.seen("inst-aaaa"), "a new window");
    }
}
