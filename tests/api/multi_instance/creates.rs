//! Judging the simulator's log: customer creates that JSM should not have seen.

use std::collections::HashMap;

use serde_json::Value;
use signup_bridge::sim::LoggedRequest;

use super::super::helpers::{CUSTOMER_PATH, logged, signup_body};

const SEARCH_PATH: &str = "/rest/api/3/user/search";

/// Customer creates no failure explains: (the emails with one, each with its creates and
/// searches as `[search ]status@received_ms`; creates excused by a SIGKILL). Per email, in
/// arrival order: once a create answered 2xx or a search found the customer, any later create
/// is a repeat, unless a SIGKILL came between the sending of that request and it (the killed
/// instance may have died before it had the answer or recorded the customer). A 409 is expected only after a create that may have
/// done its work (5xx, dropped) or a failed search; any other 409 means the customer came from
/// a create running beside it.
pub fn repeated_creates(requests: &[LoggedRequest], kills_at_ms: &[u64]) -> (Vec<String>, usize) {
    #[derive(Default)]
    struct Email {
        /// When the request that told the bridge of the customer was sent.
        resolved_at: Option<u64>,
        /// A create may have done its work, or a search failed: one 409 is expected.
        owed: bool,
        last_sent: Option<u64>,
        repeated: bool,
        history: Vec<String>,
    }
    let mut emails: HashMap<String, Email> = HashMap::new();
    let mut excused = 0;
    for r in requests {
        let search = r.path.ends_with(SEARCH_PATH);
        let email = if search {
            reqwest::Url::parse(&format!("http://sim/?{}", r.query))
                .ok()
                .and_then(|url| {
                    url.query_pairs()
                        .find(|(key, _)| key == "query")
                        .map(|(_, value)| value.into_owned())
                })
        } else if r.method == "POST" && r.path.ends_with(CUSTOMER_PATH) {
            serde_json::from_str::<Value>(&r.body)
                .ok()
                .and_then(|body| body["email"].as_str().map(str::to_string))
        } else {
            None
        };
        let Some(email) = email else { continue };
        let e = emails.entry(email.to_lowercase()).or_default();
        let sent = r.received_at_ms;
        let status = r.status.unwrap_or(0);
        let kind = if search { "search " } else { "" };
        e.history
            .push(format!("{kind}{status}@{}", r.received_at_ms));
        let previous = e.last_sent.replace(sent);
        if search {
            match status {
                200..=299 => e.resolved_at = e.resolved_at.or(Some(sent)),
                _ => e.owed = true,
            }
            continue;
        }
        // Since when the bridge may have known that JSM had the customer.
        let known_since = match e.resolved_at {
            Some(at) => Some(at),
            None if status == 409 && !e.owed => Some(previous.unwrap_or(sent)),
            None => None,
        };
        if let Some(since) = known_since {
            if kills_at_ms.iter().any(|k| *k >= since && *k < sent) {
                excused += 1;
            } else {
                e.repeated = true;
            }
        }
        match status {
            200..=299 => e.resolved_at = e.resolved_at.or(Some(sent)),
            409 => e.owed = false,
            0 | 500..=599 => e.owed = true,
            _ => {}
        }
    }
    let mut repeats: Vec<String> = emails
        .into_iter()
        .filter(|(_, e)| e.repeated)
        .map(|(email, e)| format!("{email}: {}", e.history.join(" ")))
        .collect();
    repeats.sort();
    (repeats, excused)
}

#[test]
fn a_create_after_jsm_had_the_customer_is_a_repeat() {
    let create = |email: &str, received, status, responded| LoggedRequest {
        body: signup_body(email, "X").to_string(),
        ..logged(received, status, responded)
    };
    let search = |email: &str, received, status| LoggedRequest {
        method: "GET".into(),
        path: SEARCH_PATH.into(),
        query: format!("query={}", email.replace('@', "%40")),
        ..logged(received, Some(status), Some(received + 5))
    };
    let log = [
        create("a@x.test", 1_000, Some(201), Some(1_010)),
        create("b@x.test", 1_000, Some(500), Some(1_010)), // JSM may have done it
        create("b@x.test", 1_100, Some(409), Some(1_110)), // so this conflict is expected
        search("b@x.test", 1_120, 503),                    // the run fails before resolving
        create("b@x.test", 1_300, Some(409), Some(1_310)), // so this one is expected too
        search("b@x.test", 1_320, 200),                    // resolved
        create("c@x.test", 1_000, Some(409), Some(1_010)), // a conflict nothing explains
        create("a@x.test", 1_200, Some(409), Some(1_210)), // after a's 201
        create("b@x.test", 1_400, Some(409), Some(1_410)), // after b was resolved
        create("d@x.test", 2_000, Some(503), Some(2_010)),
        create("d@x.test", 2_020, Some(409), Some(2_030)), // the search never came
        create("d@x.test", 2_500, Some(409), Some(2_510)), // unexplained, unless a SIGKILL
    ];
    let count = |log: &[LoggedRequest], kills: &[u64]| {
        let (repeats, excused) = repeated_creates(log, kills);
        (repeats.len(), excused)
    };
    assert_eq!(count(&log[..6], &[]), (0, 0));
    assert_eq!(count(&log[..7], &[]), (1, 0));
    assert_eq!(count(&log[..8], &[]), (2, 0));
    assert_eq!(count(&log[..9], &[]), (3, 0));
    assert_eq!(count(&log[..9], &[1_330]), (2, 1));
    assert_eq!(count(&log, &[]), (4, 0));
    assert_eq!(count(&log, &[2_025]), (3, 1));
    assert_eq!(
        repeated_creates(&log[6..8], &[]).0,
        ["a@x.test: 409@1200", "c@x.test: 409@1000"].map(String::from)
    );
}
