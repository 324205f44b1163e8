//! The per-tenant gate: at most `concurrency_per_tenant` runs in flight, calls paced by
//! `max_rate_per_tenant`, and after a 429 no call *sent* until its Retry-After has passed.
//!
//! Every JSM call of a tenant (create, search, steps) passes [`TenantGate::ready_to_send`]
//! immediately before it is sent. One tenant's gate never delays another tenant.
//!
//! With several instances on one database (PostgreSQL), the pause and the pacing are the
//! database's: before each call the gate books the tenant's next slot in the shared
//! `tenant_pacing` row and reads the pause any instance recorded (`tenant_holds`), so N instances
//! send no more, and no sooner after a 429, than one would. Run slots are bounded across
//! instances by the claims (see `Store::claim_due`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::domain::now_ms;
use crate::store::Store;

/// The longest pause a `Retry-After` can impose (a larger value is taken as this).
pub const MAX_PAUSE: Duration = Duration::from_secs(3600);

/// All tenants' gates, created on first use.
pub struct Gates {
    concurrency: usize,
    rate_per_second: f64,
    /// The database every instance shares, when pause and pacing live there.
    shared: Option<Store>,
    gates: Mutex<HashMap<String, Arc<TenantGate>>>,
}

impl Gates {
    /// Gates of this process alone.
    pub fn new(concurrency: u32, rate_per_second: f64) -> Self {
        Self {
            concurrency: concurrency.max(1) as usize,
            rate_per_second,
            shared: None,
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// Gates whose pause and pacing are shared through `store` with every instance on it.
    pub fn shared(concurrency: u32, rate_per_second: f64, store: Store) -> Self {
        Self {
            shared: Some(store),
            ..Self::new(concurrency, rate_per_second)
        }
    }

    pub fn get(&self, tenant: &str) -> Arc<TenantGate> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        gates
            .entry(tenant.to_string())
            .or_insert_with(|| {
                let mut gate = TenantGate::new(self.concurrency, self.rate_per_second);
                gate.shared = self.shared.clone().map(|store| Shared {
                    store,
                    tenant: tenant.to_string(),
                });
                Arc::new(gate)
            })
            .clone()
    }
}

/// Where a gate books its slots and reads pauses when instances share a database.
struct Shared {
    store: Store,
    tenant: String,
}

/// One tenant's gate.
pub struct TenantGate {
    runs: Arc<Semaphore>,
    runs_total: usize,
    interval: Option<Duration>,
    timing: Mutex<Timing>,
    shared: Option<Shared>,
}

struct Timing {
    paused_until: Option<Instant>,
    next_slot: Instant,
    /// Moving average of run durations (claim to recorded outcome, gate waits excluded), for
    /// the backlog estimate.
    average_run: Option<Duration>,
}

impl TenantGate {
    fn new(concurrency: usize, rate_per_second: f64) -> Self {
        // `try_`: a rate so small its interval overflows a Duration means no pacing worth the
        // name; config validation keeps it at least 0.001/s, and nothing here may panic.
        let interval = (rate_per_second > 0.0)
            .then(|| Duration::try_from_secs_f64(1.0 / rate_per_second).ok())
            .flatten();
        Self {
            runs: Arc::new(Semaphore::new(concurrency)),
            runs_total: concurrency.max(1),
            interval,
            timing: Mutex::new(Timing {
                paused_until: None,
                next_slot: Instant::now(),
                average_run: None,
            }),
            shared: None,
        }
    }

    /// A run slot, if one is free now.
    pub fn try_run(&self) -> Option<OwnedSemaphorePermit> {
        self.runs.clone().try_acquire_owned().ok()
    }

    /// How many run slots are free.
    pub fn free_runs(&self) -> usize {
        self.runs.available_permits()
    }

    /// When the current 429 pause ends, if the tenant is paused.
    pub fn paused_until(&self) -> Option<Instant> {
        let timing = self.timing.lock().unwrap_or_else(|e| e.into_inner());
        timing.paused_until.filter(|until| *until > Instant::now())
    }

    /// JSM answered 429: send nothing to this tenant for `duration` from now.
    pub fn pause_for(&self, duration: Duration) {
        let until = Instant::now() + duration.min(MAX_PAUSE);
        let mut timing = self.timing.lock().unwrap_or_else(|e| e.into_inner());
        if timing.paused_until.is_none_or(|current| current < until) {
            timing.paused_until = Some(until);
        }
    }

    /// Remember how long a run took (an exponential moving average, weight 1/8): the JSM
    /// calls and the database writes around them, as one signup of a backlog would take.
    pub fn record_run(&self, took: Duration) {
        let mut timing = self.timing.lock().unwrap_or_else(|e| e.into_inner());
        timing.average_run = Some(match timing.average_run {
            None => took,
            Some(avg) => avg.mul_f64(0.875) + took.mul_f64(0.125),
        });
    }

    /// About how long `backlog` due signups take to drain through this gate.
    pub fn drain_time(&self, backlog: u64) -> Duration {
        let timing = self.timing.lock().unwrap_or_else(|e| e.into_inner());
        let concurrency = self.runs_total as f64;
        // Saturating products: a long interval times a large backlog must not panic on the
        // request path (`mul_f64` does on overflow).
        let times = |d: Duration, n: f64| {
            Duration::try_from_secs_f64(d.as_secs_f64() * n).unwrap_or(Duration::MAX)
        };
        let by_latency = timing.average_run.map_or(Duration::ZERO, |avg| {
            times(avg, backlog as f64 / concurrency)
        });
        let by_rate = self
            .interval
            .map_or(Duration::ZERO, |i| times(i, backlog as f64));
        by_latency.max(by_rate)
    }

    /// Wait until a call may be sent now: after any pause, in its own paced slot.
    pub async fn ready_to_send(&self) {
        match &self.shared {
            None => self.ready_here().await,
            Some(shared) => self.ready_across_instances(shared).await,
        }
    }

    /// The pause and the slot of this process alone.
    async fn ready_here(&self) {
        loop {
            match self.reserve_slot() {
                Wait::None => return,
                // After a pause, book a paced slot like everyone else (no burst at its end).
                Wait::Pause(until) => tokio::time::sleep_until(until).await,
                // A reserved slot is ours once reached, unless a 429 arrived meanwhile.
                Wait::Slot(at) => {
                    tokio::time::sleep_until(at).await;
                    if self.paused_until().is_none() {
                        return;
                    }
                }
            }
        }
    }

    /// The pause and the slot of every instance on the database: the pause this process saw
    /// first (no round trip), then a slot booked in the database, which also reports a pause
    /// recorded by any instance. A database that does not answer holds the call: sending
    /// without the shared state could break another instance's pause.
    async fn ready_across_instances(&self, shared: &Shared) {
        let interval_ms = self.interval.map(|i| i.as_millis().max(1) as i64);
        loop {
            if let Some(until) = self.paused_until() {
                tokio::time::sleep_until(until).await;
                continue;
            }
            let now = now_ms();
            let booked = match interval_ms {
                Some(interval) => {
                    let store = &shared.store;
                    store.reserve_call_slot(&shared.tenant, now, interval).await
                }
                None => shared
                    .store
                    .tenant_hold(&shared.tenant)
                    .await
                    .map(|h| (now, h)),
            };
            let (slot, hold) = match booked {
                Ok(booked) => booked,
                Err(e) => {
                    tracing::warn!(tenant = %shared.tenant, error = %e, "cannot read the tenant's shared pause and pacing; holding its calls");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Some(hold) = hold.filter(|hold| *hold > now) {
                self.pause_for(Duration::from_millis((hold - now) as u64));
                continue;
            }
            if slot <= now {
                return;
            }
            tokio::time::sleep(Duration::from_millis((slot - now) as u64)).await;
            // A slot is ours once reached, unless a 429 arrived meanwhile (here or elsewhere).
            let hold = shared.store.tenant_hold(&shared.tenant).await;
            match hold {
                Ok(Some(hold)) if hold > now_ms() => {
                    self.pause_for(Duration::from_millis((hold - now_ms()).max(0) as u64))
                }
                Ok(_) if self.paused_until().is_none() => return,
                _ => {}
            }
        }
    }

    fn reserve_slot(&self) -> Wait {
        let mut timing = self.timing.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some(until) = timing.paused_until.filter(|until| *until > now) {
            return Wait::Pause(until);
        }
        let Some(interval) = self.interval else {
            return Wait::None;
        };
        let slot = timing.next_slot.max(now);
        timing.next_slot = slot.checked_add(interval).unwrap_or(slot);
        if slot > now {
            Wait::Slot(slot)
        } else {
            Wait::None
        }
    }
}

/// What a caller of `ready_to_send` waits for.
enum Wait {
    None,
    Pause(Instant),
    Slot(Instant),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_send_until_it_ends() {
        let gate = TenantGate::new(4, 0.0);
        gate.pause_for(Duration::from_secs(2));
        let start = Instant::now();
        gate.ready_to_send().await;
        assert!(start.elapsed() >= Duration::from_secs(2));
        assert!(gate.paused_until().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn sends_after_a_pause_are_still_paced() {
        let gate = std::sync::Arc::new(TenantGate::new(8, 2.0));
        gate.ready_to_send().await;
        gate.pause_for(Duration::from_secs(5));
        let start = Instant::now();
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move {
                    gate.ready_to_send().await;
                    Instant::now()
                })
            })
            .collect();
        let mut sent = Vec::new();
        for w in waiters {
            sent.push(w.await.unwrap() - start);
        }
        sent.sort();
        assert!(sent[0] >= Duration::from_secs(5));
        for pair in sent.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(499), "{sent:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_retry_after_is_capped() {
        let gate = TenantGate::new(1, 0.0);
        gate.pause_for(Duration::from_secs(u64::MAX));
        let until = gate.paused_until().unwrap();
        assert!(until - Instant::now() <= MAX_PAUSE);
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_spaces_sends() {
        let gate = TenantGate::new(4, 10.0);
        let start = Instant::now();
        for _ in 0..5 {
            gate.ready_to_send().await;
        }
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(500),
            "{elapsed:?}"
        );
    }

    #[test]
    fn drain_time_uses_latency_and_pacing() {
        let gate = TenantGate::new(4, 0.0);
        assert_eq!(gate.drain_time(100), Duration::ZERO);
        gate.record_run(Duration::from_millis(200));
        assert_eq!(gate.drain_time(100), Duration::from_secs(5));
        let paced = TenantGate::new(4, 10.0);
        assert_eq!(paced.drain_time(50), Duration::from_secs(5));
    }

    #[test]
    fn runs_are_bounded() {
        let gate = TenantGate::new(2, 0.0);
        let a = gate.try_run();
        let b = gate.try_run();
        assert!(a.is_some() && b.is_some() && gate.try_run().is_none());
        drop(a);
        assert_eq!(gate.free_runs(), 1);
    }

    #[test]
    fn tiny_rates_and_huge_backlogs_do_not_panic() {
        let gate = TenantGate::new(1, 1e-300);
        assert_eq!(gate.drain_time(u64::MAX), Duration::ZERO);
        let slow = TenantGate::new(1, 1e-12);
        assert_eq!(slow.drain_time(u64::MAX), Duration::MAX);
        slow.record_run(Duration::from_secs(3600));
        assert_eq!(slow.drain_time(u64::MAX), Duration::MAX);
    }
}
