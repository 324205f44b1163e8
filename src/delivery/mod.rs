//! Delivery: the one path that calls JSM. A worker claims due signups from the database (the
//! only queue), runs their steps through each tenant's gate, and records every outcome.
//! Intake wakes it in-process and waits on its events; it also polls, so work recorded by
//! another process (`signups retry`) or left by a crash is picked up.

mod backoff;
mod credentials;
mod events;
mod forge_tenants;
mod gate;
mod lookup;
mod outcome;
mod purge;
mod quota;
mod run;
#[cfg(test)]
mod stored_urls_tests;
mod tenants;
mod waiting;
mod welcome;
mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

pub use backoff::retry_delay;
pub use credentials::{CUSTOMER_PERMISSION, TOKEN_MARGIN};
pub use events::{Events, Subscription};
pub use forge_tenants::{Readiness, WaitReason, forge_wait_reason};
pub use gate::{Gates, TenantGate};
pub use purge::run_purge;
pub use tenants::{ResolvedTenant, TenantDirectory, TenantUnavailable};

use crate::config::DeliveryConfig;
use crate::jsm::JsmClient;
use crate::store::{Backend, Lease, Notice, Notices, Store};

/// The delivery engine, shared by the worker loop, its runs and the intake.
pub struct Engine {
    store: Store,
    jsm: JsmClient,
    directory: Arc<TenantDirectory>,
    gates: Gates,
    config: DeliveryConfig,
    /// This process's lease owner name.
    owner: String,
    wake: Notify,
    /// True while the worker holds run slots it has not handed to runs yet (a claim pass).
    claiming: std::sync::atomic::AtomicBool,
    events: Events,
    in_flight: Mutex<HashMap<String, Lease>>,
}

impl Engine {
    pub fn new(
        store: Store,
        jsm: JsmClient,
        directory: Arc<TenantDirectory>,
        config: DeliveryConfig,
    ) -> Arc<Self> {
        let (concurrency, rate) = (config.concurrency_per_tenant, config.max_rate_per_tenant);
        let gates = match store.backend() {
            Backend::Sqlite => Gates::new(concurrency, rate),
            Backend::Postgres => Gates::shared(concurrency, rate, store.clone()),
        };
        Arc::new(Self {
            gates,
            store,
            jsm,
            directory,
            config,
            owner: format!("worker-{}", uuid::Uuid::new_v4()),
            wake: Notify::new(),
            claiming: Default::default(),
            events: Events::new(),
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    /// Tell the worker there may be new work.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// New work is due (a signup recorded, a tenant unblocked): wake this worker and those of
    /// every other instance on the database.
    pub async fn work_due(&self) {
        self.wake();
        self.store.announce(&Notice::Due).await;
    }

    /// A new signup of `tenant` was recorded. This worker is woken only when the tenant has a
    /// free run slot or a claim pass holds slots (it may have read the queue before this
    /// signup was committed): otherwise the end of a run wakes it, after its slot is given
    /// back, so a backlog of thousands costs no worker pass per signup. Other instances were
    /// told by the insert itself (one PostgreSQL notification per batch, see `Store`).
    pub fn signup_recorded(&self, tenant: &str) {
        let claiming = self.claiming.load(std::sync::atomic::Ordering::SeqCst);
        if claiming || self.gates.get(tenant).free_runs() > 0 {
            self.wake();
        }
    }

    /// A signup's state changed: wake inline waits here and on every other instance.
    async fn changed(&self, signup_id: &str) {
        self.events.publish(signup_id);
        self.store
            .announce(&Notice::Changed(signup_id.into()))
            .await;
    }

    /// Hear the other instances (PostgreSQL) until `shutdown`: their new work wakes this
    /// worker, their outcomes wake this process's inline waits.
    pub(crate) async fn hear_other_instances(
        self: Arc<Self>,
        notices: Option<Notices>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let Some(mut notices) = notices else {
            return;
        };
        while !*shutdown.borrow() {
            tokio::select! {
                notice = notices.next() => match notice {
                    Notice::Due => self.wake(),
                    Notice::Changed(id) => self.events.publish(&id),
                },
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Outcome events (signup ids whose state changed).
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// The tenant's gate (intake looks at its pause).
    pub fn gate(&self, tenant: &str) -> Arc<TenantGate> {
        self.gates.get(tenant)
    }

    /// How long a claim holds a signup before another worker may take it over.
    fn lease_ms(&self) -> i64 {
        2 * self.config.request_timeout.as_millis() as i64 + 5_000
    }
}
