//! `X-RateLimit-Reset` as Atlassian sends it: an ISO 8601 timestamp, with or without seconds
//! (and fractions), ending in `Z` or a UTC offset (`+02:00`, `+0200`, `+02`). Published fact
//! (Atlassian's rate-limiting page, SPEC §17): every form occurs.

use std::time::{Duration, SystemTime};

/// The instant `value` names, or None when it is not such a timestamp.
pub fn parse_iso8601(value: &str) -> Option<SystemTime> {
    let value = value.trim();
    let (date, time) = value.split_once(['T', 't', ' '])?;
    let (clock, offset) = split_offset(time)?;
    // humantime reads RFC 3339 (seconds required, `Z` only): give it that form.
    let clock = match clock.len() {
        5 => format!("{clock}:00"),
        _ => clock.to_string(),
    };
    let local = humantime::parse_rfc3339_weak(&format!("{date}T{clock}Z")).ok()?;
    let shift = Duration::from_secs(offset.unsigned_abs());
    // 12:00+02:00 is 10:00Z: subtract a positive offset.
    if offset >= 0 {
        local.checked_sub(shift)
    } else {
        local.checked_add(shift)
    }
}

/// The clock part and the offset from UTC in seconds.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let Some(at) = time.rfind(['+', '-']) else {
        // No zone: read as UTC (Atlassian always sends one; a proxy might drop it).
        return Some((time, 0));
    };
    let (clock, zone) = time.split_at(at);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        2 => (digits.parse::<i64>().ok()?, 0),
        4 => (
            digits[..2].parse::<i64>().ok()?,
            digits[2..].parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((clock, sign * (hours * 3600 + minutes * 60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_published_form() {
        let noon = humantime::parse_rfc3339("2026-03-05T12:00:00Z").unwrap();
        let at = |secs: i64| {
            if secs >= 0 {
                noon + Duration::from_secs(secs as u64)
            } else {
                noon - Duration::from_secs(secs.unsigned_abs())
            }
        };
        let cases: &[(&str, Option<SystemTime>)] = &[
            ("2026-03-05T12:00:30Z", Some(at(30))),
            ("2026-03-05T12:00Z", Some(at(0))),
            ("2026-03-05T12:01z", Some(at(60))),
            (
                "2026-03-05T12:00:30.500Z",
                Some(at(30) + Duration::from_millis(500)),
            ),
            ("2026-03-05T14:00:00+02:00", Some(at(0))),
            ("2026-03-05T14:00+02:00", Some(at(0))),
            ("2026-03-05T14:00:00+0200", Some(at(0))),
            ("2026-03-05T14:00:00+02", Some(at(0))),
            ("2026-03-05T07:30:00-04:30", Some(at(0))),
            ("2026-03-05T12:00:00", Some(at(0))),
            ("2026-03-05 12:00:10Z", Some(at(10))),
            (" 2026-03-05T12:00:00Z ", Some(at(0))),
            ("2026-03-05T12:00:00+2:00", None),
            ("2026-03-05T12:00:00+25:00", None),
            ("2026-03-05T12:00:00+ab:cd", None),
            ("2026-03-05", None),
            ("tomorrow", None),
            ("7", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_iso8601(raw), *want, "{raw:?}");
        }
    }
}
