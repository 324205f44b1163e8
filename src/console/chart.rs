//! The overview's bar chart of the last 24 hours (created / existing / failed per hour), drawn
//! here as SVG numbers; the template only loops over them.

use crate::domain::now_ms;

pub const WIDTH: i64 = 720;
pub const HEIGHT: i64 = 160;
const HOURS: i64 = 24;
const SLOT: i64 = WIDTH / HOURS;
const BAR: i64 = SLOT - 6;
const PLOT: i64 = HEIGHT - 20;

/// One rectangle: a part of an hour's stacked bar.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    /// `created`, `existing` or `failed` (the stylesheet colours them).
    pub class: &'static str,
    /// What a tooltip and a screen reader say.
    pub title: String,
}

/// An hour label under the bars.
pub struct Tick {
    pub x: i64,
    pub text: String,
}

/// The chart, ready to draw.
pub struct Chart {
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    pub max: i64,
    /// A sentence for screen readers.
    pub summary: String,
}

/// The chart from (hour since the epoch, status, count) rows.
pub fn build(rows: &[(i64, String, i64)]) -> Chart {
    let this_hour = now_ms() / 3_600_000;
    let first = this_hour - HOURS + 1;
    let mut counts = vec![[0i64; 3]; HOURS as usize];
    for (hour, status, n) in rows {
        let Some(slot) = hour.checked_sub(first).filter(|s| (0..HOURS).contains(s)) else {
            continue;
        };
        let kind = match status.as_str() {
            "created" => 0,
            "existing" => 1,
            "failed" => 2,
            _ => continue,
        };
        counts[slot as usize][kind] += n;
    }
    let max = counts
        .iter()
        .map(|c| c.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut bars = Vec::new();
    let mut ticks = Vec::new();
    let totals = counts.iter().fold([0i64; 3], |mut t, c| {
        (0..3).for_each(|i| t[i] += c[i]);
        t
    });
    for (slot, c) in counts.iter().enumerate() {
        let x = slot as i64 * SLOT + 3;
        let hour = (first + slot as i64).rem_euclid(24);
        let mut base = PLOT;
        for (kind, class) in ["created", "existing", "failed"].into_iter().enumerate() {
            let n = c[kind];
            if n == 0 {
                continue;
            }
            let height = (n * PLOT / max).max(1);
            base -= height;
            bars.push(Bar {
                x,
                y: base,
                width: BAR,
                height,
                class,
                title: format!("{hour:02}:00 UTC: {n} {class}"),
            });
        }
        if slot % 3 == 0 {
            ticks.push(Tick {
                x: x + BAR / 2,
                text: format!("{hour:02}h"),
            });
        }
    }
    Chart {
        bars,
        ticks,
        max,
        summary: format!(
            "Last 24 hours: {} created, {} existing, {} failed.",
            totals[0], totals[1], totals[2]
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_within_the_plot_and_old_hours_are_left_out() {
        let hour = now_ms() / 3_600_000;
        let rows = vec![
            (hour, "created".to_string(), 4),
            (hour, "failed".to_string(), 2),
            (hour - 30, "created".to_string(), 99),
        ];
        let chart = build(&rows);
        assert_eq!(chart.max, 6);
        assert_eq!(chart.bars.len(), 2);
        assert!(
            chart
                .bars
                .iter()
                .all(|b| b.y >= 0 && b.y + b.height <= PLOT)
        );
        assert_eq!(
            chart.summary,
            "Last 24 hours: 4 created, 0 existing, 2 failed."
        );
    }
}
