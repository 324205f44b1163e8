//! In-process notifications that a signup's state changed, so intake can answer inline.

use std::time::Duration;

use tokio::sync::broadcast;

/// A broadcast of signup ids whose state changed.
pub struct Events {
    tx: broadcast::Sender<String>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(4096).0,
        }
    }

    pub fn publish(&self, signup_id: &str) {
        let _ = self.tx.send(signup_id.to_string());
    }

    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.tx.subscribe(),
        }
    }
}

/// One waiter's view of the events.
pub struct Subscription {
    rx: broadcast::Receiver<String>,
}

impl Subscription {
    /// Wait until `signup_id` may have changed (or events were missed); false on timeout.
    pub async fn changed(&mut self, signup_id: &str, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Err(_) => return false,
                Ok(Ok(id)) if id == signup_id => return true,
                Ok(Ok(_)) => continue,
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => return true,
                Ok(Err(broadcast::error::RecvError::Closed)) => return false,
            }
        }
    }
}
