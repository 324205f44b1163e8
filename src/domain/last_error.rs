//! What a failed delivery run leaves behind, in two forms. API answers (`lastError`) carry only
//! a stable category and a short reason — a sender learns neither the transport chain nor what
//! JSM said. The full detail goes to the log and to `signups show`, emails masked and control
//! characters escaped, so a JSM message cannot forge log lines.

use super::mask_emails_in;

/// The stable categories of `lastError`, each `<category>: <short reason>`.
pub const CATEGORIES: &[&str] = &[
    "unknown",
    "jsm_unavailable",
    "network_error",
    "rate_limited",
    "jsm_auth",
    "jsm_permission",
    "account_unreadable",
    "not_found",
    "rejected",
    "invalid_response",
    "exhausted",
    "waiting",
];

/// A failure as recorded: `summary` for API answers, `detail` for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastError {
    /// `<category>: <short reason>`, never an upstream message.
    pub summary: String,
    /// The whole story, emails masked, newlines and other control characters escaped.
    pub detail: String,
}

impl LastError {
    pub fn new(category: &'static str, reason: &str, detail: &str) -> Self {
        debug_assert!(CATEGORIES.contains(&category), "{category}");
        Self {
            summary: format!("{category}: {reason}"),
            detail: escape_controls(&mask_emails_in(detail)),
        }
    }
}

/// `text` with every control character written as an escape (`\n`, `\r`, `\t`, `\u{1b}`), so it
/// stays on one log line.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_is_masked_and_on_one_line() {
        let e = LastError::new(
            "rejected",
            "JSM rejected the customer (400)",
            "create: JSM said: fred@example.com is bad\nFAKE LOG LINE\r\u{1b}[31m",
        );
        assert_eq!(e.summary, "rejected: JSM rejected the customer (400)");
        assert_eq!(
            e.detail,
            "create: JSM said: f***@example.com is bad\\nFAKE LOG LINE\\r\\u{1b}[31m"
        );
        assert!(!e.detail.contains('\n') && !e.detail.contains('\r'));
    }

    #[test]
    fn printable_text_is_unchanged() {
        assert_eq!(escape_controls("plain – ünïcode"), "plain – ünïcode");
    }
}
