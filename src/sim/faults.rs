//! Fault scripts: counted misbehaviours ("500 three times, then normal").
//!
//! Faults sit in a queue. Each JSM API request takes the first fault that matches it (method
//! and path filter), which spends one of its `times`; a fault whose count reaches zero leaves
//! the queue. `times: None` stays forever. The control API is never faulted.

use serde::{Deserialize, Serialize};

/// One scripted misbehaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// How many requests it applies to; None = forever.
    #[serde(default)]
    pub times: Option<u32>,
    /// Only requests whose path contains this.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Only requests with this method (case-insensitive).
    #[serde(default)]
    pub method: Option<String>,
    /// What happens to a matching request.
    pub action: FaultAction,
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum FaultAction {
    /// Answer this status (with a JSM error body).
    Status {
        /// HTTP status to answer.
        status: u16,
        /// `Retry-After` header value, seconds.
        #[serde(default)]
        retry_after: Option<u64>,
        /// false (default): the request has no effect; true: it is processed, then answered
        /// with this status anyway.
        #[serde(default)]
        process_first: bool,
    },
    /// Answer this status with a JSM error body whose message quotes the request's `email`
    /// and `displayName` (as JSM's validation errors quote what they refuse), without effect.
    Quote {
        /// HTTP status to answer.
        status: u16,
    },
    /// The request is processed, then its response is delayed this long.
    Delay {
        /// Delay in milliseconds.
        ms: u64,
    },
    /// The connection is closed without a response.
    Drop {
        /// true: the request took effect before the drop.
        #[serde(default)]
        process_first: bool,
    },
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = self
            .path_contains
            .as_deref()
            .is_none_or(|p| path.contains(p));
        method_ok && path_ok
    }
}

/// The queue of pending faults.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    faults: Vec<Fault>,
}

impl FaultQueue {
    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.times != Some(0) {
            self.faults.push(fault);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.faults.clone()
    }

    /// The action for this request, spending one use of the first matching fault.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<FaultAction> {
        let index = self.faults.iter().position(|f| f.matches(method, path))?;
        let fault = &mut self.faults[index];
        let action = fault.action.clone();
        if let Some(times) = fault.times.as_mut() {
            *times = times.saturating_sub(1);
            if *times == 0 {
                self.faults.remove(index);
            }
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(times: Option<u32>, status: u16) -> Fault {
        Fault {
            times,
            path_contains: None,
            method: None,
            action: FaultAction::Status {
                status,
                retry_after: None,
                process_first: false,
            },
        }
    }

    #[test]
    fn counted_faults_are_spent_in_order() {
        let mut q = FaultQueue::default();
        q.push(status(Some(2), 500));
        q.push(status(Some(1), 503));
        let got: Vec<Option<u16>> = (0..4)
            .map(|_| match q.take("POST", "/x") {
                Some(FaultAction::Status { status, .. }) => Some(status),
                _ => None,
            })
            .collect();
        assert_eq!(got, vec![Some(500), Some(500), Some(503), None]);
    }

    #[test]
    fn filters_skip_non_matching_requests() {
        let mut q = FaultQueue::default();
        let mut f = status(None, 500);
        f.path_contains = Some("/customer".into());
        f.method = Some("post".into());
        q.push(f);
        assert!(q.take("GET", "/rest/servicedeskapi/customer").is_none());
        assert!(q.take("POST", "/rest/api/3/user/search").is_none());
        assert!(q.take("POST", "/rest/servicedeskapi/customer").is_some());
        assert!(q.take("POST", "/rest/servicedeskapi/customer").is_some());
    }

    #[test]
    fn fault_json_is_camel_case_and_tagged() {
        let json = r#"{"times":3,"pathContains":"/customer",
            "action":{"kind":"status","status":500,"retryAfter":2}}"#;
        let f: Fault = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.times, Some(3));
        assert_eq!(
            f.action,
            FaultAction::Status {
                status: 500,
                retry_after: Some(2),
                process_first: false
            }
        );
        let d: FaultAction = serde_json::from_str(r#"{"kind":"drop","processFirst":true}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            d,
            FaultAction::Drop {
                process_first: true
            }
        );
    }
}
