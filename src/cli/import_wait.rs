//! `import --wait`: the running `serve` delivers the imported signups; this shows how many of
//! the source's imported signups are created, existing or failed until none is pending.

use std::time::Duration;

use super::import::Progress;
use crate::store::Store;

/// How often the counts are read.
const POLL: Duration = Duration::from_millis(500);

pub async fn wait(store: &Store, source_id: &str) -> anyhow::Result<()> {
    let first = store.import_counts(source_id).await?;
    let total = (first.pending + first.created + first.existing + first.failed).max(0) as u64;
    let progress = Progress::new(total, "delivered");
    loop {
        let c = store.import_counts(source_id).await?;
        let done = (c.created + c.existing + c.failed).max(0) as u64;
        progress.set(done);
        if c.pending == 0 {
            progress.finish(done);
            println!(
                "delivered: {} created, {} existing, {} failed",
                c.created, c.existing, c.failed
            );
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}
