//! Delivery: the one path that calls JSM. A worker claims due signups from the database (the
//! only queue), runs their steps through each tenant's gate, and records every outcome.
//! Intake wakes it in-process and waits on its events; it also polls, so work recorded by
//! another process (`signups retry`) or left by a crash is picked up.

mod backoff;
mod credentials;
mod events;
mod forge_tenants;
mod gate;
mod outcome;
mod purge;
mod quota;
mod run;
mod tenants;
mod waiting;
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
use crate::store::{Lease, Store};

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
        Arc::new(Self {
            gates: Gates::new(config.concurrency_per_tenant, config.max_rate_per_tenant),
            store,
            jsm,
            directory,
            config,
            owner: format!("worker-{}", uuid::Uuid::new_v4()),
            wake: Notify::new(),
            events: Events::new(),
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    /// Tell the worker there may be new work.
    pub fn wake(&self) {
        self.wake.notify_one();
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
