//! Times as the console shows and reads them: UTC, minute precision in forms.

use std::time::{Duration, UNIX_EPOCH};

use crate::domain::now_ms;

/// `2026-12-06 23:10:05 UTC` from Unix ms.
pub fn show(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    format!("{} UTC", s.trim_end_matches('Z').replacen('T', " ", 1))
}

/// `5m ago`, `3h 2m ago`, `in 30s`: the distance from now, coarse.
pub fn relative(ms: i64) -> String {
    let now = now_ms();
    let (d, future) = if ms > now {
        (ms - now, true)
    } else {
        (now - ms, false)
    };
    let secs = (d / 1000) as u64;
    let coarse = if secs >= 3600 { secs - secs % 60 } else { secs };
    let text = humantime::format_duration(Duration::from_secs(coarse)).to_string();
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// A form's time (`2026-12-06T23:10` from `<input type="datetime-local">`, or RFC 3339), read
/// as UTC; None for blank or unreadable input.
pub fn parse(input: &str) -> Option<i64> {
    let input = input.trim();
    if input.is_empty() {
        return None;
    }
    let full = match input.len() {
        16 => format!("{input}:00Z"),
        19 => format!("{input}Z"),
        _ => input.to_string(),
    };
    let t = humantime::parse_rfc3339_weak(&full).ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_times_are_utc() {
        let cases = [
            ("2026-12-06T23:10", Some(1_796_598_600_000)),
            ("2026-12-06T23:10:00", Some(1_796_598_600_000)),
            ("2026-12-06T23:10:00Z", Some(1_796_598_600_000)),
            ("", None),
            ("yesterday", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), want, "{input}");
        }
        assert_eq!(show(1_796_598_605_000), "2026-12-06 23:10:05 UTC");
    }
}
