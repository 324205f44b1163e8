//! The text and JSON faces of `signups list`, `signups stats` and `signups retry --wait`.

use std::time::Duration;

use crate::domain::{SignupStatus, mask_email, rfc3339_ms};
use crate::store::{SignupFilter, Store};

/// The text header of `signups list`: SPEC's six columns, then additions.
const HEADER: &str = "id\tstatus\ttenant\temail\tattempts\tupdatedAt\tsource\tlastError";

/// `signups list`: a header and one tab-separated line per signup, or `no signups`; with
/// `json`, one JSON object per line and nothing when none matches.
pub async fn list(
    store: &Store,
    filter: &SignupFilter,
    limit: u32,
    json: bool,
) -> anyhow::Result<()> {
    let lines = store.find_signups(filter, limit).await?;
    if lines.is_empty() && !json {
        println!("no signups");
        return Ok(());
    }
    if !json {
        println!("{HEADER}");
    }
    for s in lines {
        let email = mask_email(&s.email);
        let updated = rfc3339_ms(s.updated_at);
        if json {
            let line = serde_json::json!({
                "id": s.id, "status": s.status, "tenant": s.tenant, "email": email,
                "attempts": s.attempts, "updatedAt": updated, "source": s.source,
                "lastError": s.last_error,
            });
            println!("{line}");
        } else {
            // One line per signup whatever the error says.
            let last_error = s
                .last_error
                .as_deref()
                .map_or_else(|| "-".to_string(), |e| e.replace(['\t', '\n', '\r'], " "));
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                s.id,
                s.status.as_str(),
                s.tenant,
                email,
                s.attempts,
                updated,
                s.source,
                last_error
            );
        }
    }
    Ok(())
}

/// `signups stats`: the count in every status (zeros included) and the total.
pub async fn counts(store: &Store, filter: &SignupFilter, json: bool) -> anyhow::Result<()> {
    let found = store.count_signups(filter).await?;
    let all = [
        SignupStatus::Pending,
        SignupStatus::Created,
        SignupStatus::Existing,
        SignupStatus::Failed,
    ];
    let count = |status: SignupStatus| {
        found
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    };
    let total: u64 = found.iter().map(|(_, n)| n).sum();
    if json {
        let mut object = serde_json::Map::new();
        for status in all {
            object.insert(status.as_str().into(), count(status).into());
        }
        object.insert("total".into(), total.into());
        println!("{}", serde_json::Value::Object(object));
    } else {
        for status in all {
            println!("{}\t{}", status.as_str(), count(status));
        }
        println!("total\t{total}");
    }
    Ok(())
}

/// The ids of every failed signup (before `retry --failed` re-queues them).
pub async fn failed_ids(store: &Store) -> anyhow::Result<Vec<String>> {
    let filter = SignupFilter {
        status: Some(SignupStatus::Failed),
        ..SignupFilter::default()
    };
    let lines = store.find_signups(&filter, u32::MAX).await?;
    Ok(lines.into_iter().map(|s| s.id).collect())
}

/// How often `--wait` reads the signups again (the worker polls every 500 ms).
const POLL: Duration = Duration::from_millis(250);

/// Wait until none of `ids` is pending (or `timeout`), then print `id<TAB>status<TAB>lastError`
/// per signup; an error (exit 1) when any ended failed or is still pending.
pub async fn wait_settled(store: &Store, ids: &[String], timeout: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut settled = Vec::new();
    loop {
        settled.clear();
        for id in ids {
            if let Some(signup) = store.signup(id).await? {
                settled.push((id.clone(), signup.status, signup.last_error));
            }
        }
        let pending = settled
            .iter()
            .any(|(_, status, _)| *status == SignupStatus::Pending);
        if !pending || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    for (id, status, last_error) in &settled {
        let error = last_error
            .as_deref()
            .map_or_else(|| "-".to_string(), |e| e.replace(['\t', '\n', '\r'], " "));
        println!("{id}\t{}\t{error}", status.as_str());
    }
    let failed = settled
        .iter()
        .filter(|(_, s, _)| *s == SignupStatus::Failed)
        .count();
    let pending = settled
        .iter()
        .filter(|(_, s, _)| *s == SignupStatus::Pending)
        .count();
    match (failed, pending) {
        (0, 0) => Ok(()),
        (_, 0) => Err(anyhow::anyhow!("{failed} signup(s) failed again")),
        _ => Err(anyhow::anyhow!(
            "{pending} signup(s) still pending after {} (is `serve` running on this database?)",
            humantime::format_duration(timeout)
        )),
    }
}
