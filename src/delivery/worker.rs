//! The worker loop: claim what is due, per tenant, within the tenant's free run slots.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{info, warn};

use super::Engine;
use crate::domain::now_ms;
use crate::store::Backend;

/// The worker polls the database at least this often (at least once a second, so `signups retry` is picked up within 2 s).
const POLL_INTERVAL: Duration = Duration::from_millis(500);

impl Engine {
    /// Run until `shutdown` turns true; then let runs finish within `request_timeout`, and
    /// give back the leases of any still running.
    pub async fn run_worker(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        self.restore_holds().await;
        let mut runs = JoinSet::new();
        while !*shutdown.borrow() {
            self.claiming.store(true, Ordering::SeqCst);
            let claimed = self.claim_and_start(&mut runs).await;
            self.claiming.store(false, Ordering::SeqCst);
            if let Err(e) = claimed {
                warn!(error = %e, "claiming due signups failed");
            }
            while runs.try_join_next().is_some() {}
            let nap = self.nap().await;
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(nap) => {}
                _ = shutdown.changed() => {}
            }
        }
        self.drain(runs).await;
    }

    /// A 429 pause recorded before a restart holds the tenant's gate for what is left of it,
    /// so a signup accepted after the restart is not sent inside the window either.
    async fn restore_holds(&self) {
        for (tenant, left) in self.recorded_holds().await {
            info!(tenant = %tenant, pause = ?left, "tenant paused by an earlier 429");
            self.gates.get(&tenant).pause_for(left);
        }
    }

    /// With several instances, a pause another one recorded holds this one's gate too, so its
    /// worker does not claim signups that could only wait at the gate (each call reads the
    /// pause anyway) and its intake answers them as paused.
    async fn follow_other_instances_holds(&self) {
        if self.store.backend() != Backend::Postgres {
            return;
        }
        for (tenant, left) in self.recorded_holds().await {
            self.gates.get(&tenant).pause_for(left);
        }
    }

    /// The tenants whose recorded 429 pause has not ended, and what is left of it.
    async fn recorded_holds(&self) -> Vec<(String, Duration)> {
        let now = now_ms();
        match self.store.tenant_holds(now).await {
            Ok(holds) => holds
                .into_iter()
                .map(|(tenant, until)| {
                    let left = Duration::from_millis(until.saturating_sub(now).max(0) as u64);
                    (tenant, left)
                })
                .collect(),
            Err(e) => {
                warn!(error = %e, "could not read the tenants' pauses");
                Vec::new()
            }
        }
    }

    async fn claim_and_start(self: &Arc<Self>, runs: &mut JoinSet<()>) -> Result<(), sqlx::Error> {
        self.follow_other_instances_holds().await;
        let now = now_ms();
        let mut waiting = super::waiting::WaitingTally::default();
        for tenant in self.store.due_tenants(now).await? {
            let gate = self.gates.get(&tenant);
            if gate.paused_until().is_some() {
                continue;
            }
            let Some(target) = self.callable(&tenant, &mut waiting).await else {
                continue;
            };
            // Every free run slot; the claim takes at most that many, and the slots it
            // found nothing for are given back when `permits` is dropped below.
            let permits: Vec<_> = std::iter::from_fn(|| gate.try_run()).collect();
            if permits.is_empty() {
                continue;
            }
            let claim_started = std::time::Instant::now();
            let lease_until = now_ms() + self.lease_ms();
            let claimed = self
                .store
                .claim_due(
                    &self.owner,
                    &tenant,
                    permits.len() as u32,
                    self.config.concurrency_per_tenant,
                    lease_until,
                )
                .await?;
            for (claim, permit) in claimed.into_iter().zip(permits) {
                let engine = Arc::clone(self);
                let target = target.clone();
                let gate = Arc::clone(&gate);
                self.track(&claim.signup.id, Some(claim.lease.clone()));
                runs.spawn(async move {
                    let id = claim.signup.id.clone();
                    let gate_wait = Arc::clone(&claim.gate_wait_ms);
                    engine.run(claim, target, &gate).await;
                    // What a signup costs the tenant's run slot, from claim to recorded
                    // outcome, less any wait at the gate (pauses and pacing are counted apart).
                    let waited = Duration::from_millis(gate_wait.load(Ordering::Relaxed));
                    gate.record_run(claim_started.elapsed().saturating_sub(waited));
                    engine.track(&id, None);
                    drop(permit);
                    engine.wake();
                });
            }
        }
        waiting.publish();
        Ok(())
    }

    /// Sleep until the next signup falls due, at most the poll interval. Signups already due
    /// but not claimable now (tenant paused or full, installation disabled, leased) wait for
    /// the next poll or a wake-up (a run ending, a new signup), never a busy loop.
    async fn nap(&self) -> Duration {
        let now = now_ms();
        match self.store.next_due_after(now).await {
            Ok(Some(at)) => {
                let ms = (at - now).clamp(5, POLL_INTERVAL.as_millis() as i64);
                Duration::from_millis(ms as u64)
            }
            _ => POLL_INTERVAL,
        }
    }

    fn track(&self, id: &str, lease: Option<crate::store::Lease>) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        match lease {
            Some(lease) => in_flight.insert(id.to_string(), lease),
            None => in_flight.remove(id),
        };
    }

    async fn drain(&self, mut runs: JoinSet<()>) {
        let bound = self.config.request_timeout + Duration::from_secs(1);
        let finished =
            tokio::time::timeout(bound, async { while runs.join_next().await.is_some() {} }).await;
        if finished.is_err() {
            runs.abort_all();
            while runs.join_next().await.is_some() {}
        }
        let left: Vec<_> = {
            let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            in_flight
                .iter()
                .map(|(id, lease)| (id.clone(), lease.clone()))
                .collect()
        };
        for (id, lease) in &left {
            if let Err(e) = self.store.release(id, lease).await {
                warn!(signup = %id, error = %e, "could not release lease");
            }
        }
        info!(released = left.len(), "worker stopped");
    }
}
