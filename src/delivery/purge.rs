//! Retention: finished signups are deleted after their retention, in small batches, so the
//! purge never holds the writer long enough to stall intake; used single-use tokens are
//! deleted once they have expired. Pending signups of an installation that stayed disabled or
//! uninstalled past `failed_retention` fail here first, then age out like other failed ones.

use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::IdempotencyConfig;
use crate::domain::{LastError, now_ms};
use crate::store::Store;

const BATCH: u32 = 500;

/// Purge every min(retention, 1 minute) until `shutdown`.
pub async fn run_purge(
    store: Store,
    config: IdempotencyConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let every = config
        .retention
        .min(config.failed_retention)
        .min(Duration::from_secs(60))
        .max(Duration::from_millis(100));
    while !*shutdown.borrow() {
        let now = now_ms();
        let done_before = now - config.retention.as_millis() as i64;
        let failed_before = now - config.failed_retention.as_millis() as i64;
        let stranded = LastError::new(
            "exhausted",
            "the installation stayed disabled or uninstalled past idempotency.failed_retention",
            "the installation stayed disabled or uninstalled past idempotency.failed_retention",
        );
        match store.fail_stranded(failed_before, &stranded).await {
            Ok(0) => {}
            Ok(n) => info!(
                failed = n,
                "signups of disabled or uninstalled installations failed"
            ),
            Err(e) => warn!(error = %e, "failing stranded signups failed"),
        }
        let mut total = 0;
        loop {
            match store.purge_expired(done_before, failed_before, BATCH).await {
                Ok(n) => {
                    total += n;
                    if n < u64::from(BATCH) {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                Err(e) => {
                    warn!(error = %e, "purge failed");
                    break;
                }
            }
        }
        if total > 0 {
            info!(purged = total, "expired signups purged");
        }
        if let Err(e) = store.purge_used_tokens(now).await {
            warn!(error = %e, "purge of used tokens failed");
        }
        // Expired token bindings: a token past its `exp` is refused anyway.
        while let Ok(n) = store.purge_jtis(BATCH).await {
            if n < u64::from(BATCH) {
                break;
            }
            tokio::task::yield_now().await;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
    }
}
