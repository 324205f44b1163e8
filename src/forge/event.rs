//! The body of a Forge call. Lifecycle events arrive bare (`{"eventType": ...}`) or wrapped as
//! `{"payload": {...}}`; both are read the same. Only the event type matters to the bridge:
//! everything it stores comes from the verified FIT and the system token header.

use serde_json::Value;

/// `avi:forge:installed:app`.
pub const INSTALLED: &str = "avi:forge:installed:app";
/// `avi:forge:upgraded:app`.
pub const UPGRADED: &str = "avi:forge:upgraded:app";

/// What a Forge call's body asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForgeEvent {
    Installed,
    Upgraded,
    /// Another event type, or none (a scheduled trigger's body): logged, answered 200.
    Other(Option<String>),
}

/// The event of a body (bare or wrapped); a body that is not a JSON object has none.
pub fn read_event(body: &[u8]) -> ForgeEvent {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let event = match value.get("payload") {
        Some(inner) if inner.is_object() => inner,
        _ => &value,
    };
    let kind = event.get("eventType").and_then(Value::as_str);
    match kind {
        Some(INSTALLED) => ForgeEvent::Installed,
        Some(UPGRADED) => ForgeEvent::Upgraded,
        other => ForgeEvent::Other(other.map(|t| t.chars().take(100).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_wrapped_events_read_alike() {
        let cases: [(&str, ForgeEvent); 7] = [
            (
                r#"{"eventType":"avi:forge:installed:app"}"#,
                ForgeEvent::Installed,
            ),
            (
                r#"{"payload":{"eventType":"avi:forge:installed:app","id":"x"}}"#,
                ForgeEvent::Installed,
            ),
            (
                r#"{"eventType":"avi:forge:upgraded:app"}"#,
                ForgeEvent::Upgraded,
            ),
            (
                r#"{"payload":{"eventType":"avi:forge:upgraded:app"},"context":{}}"#,
                ForgeEvent::Upgraded,
            ),
            (
                r#"{"eventType":"avi:jira:created:issue"}"#,
                ForgeEvent::Other(Some("avi:jira:created:issue".into())),
            ),
            (r#"{"context":{"cloudId":"c"}}"#, ForgeEvent::Other(None)),
            ("not json", ForgeEvent::Other(None)),
        ];
        for (body, want) in cases {
            assert_eq!(read_event(body.as_bytes()), want, "{body}");
        }
    }
}
