//! Printing findings: aligned lines for people (`ok` / `warn` / `FAIL`, the check, the finding,
//! then the fix on its own line), or one JSON object per line for scripts.

use std::fmt::Write as _;

use super::{Finding, Status};

/// Human output: per tenant a heading, then one aligned line per check and its fix; a summary.
pub fn render_text(findings: &[Finding]) -> String {
    let width = findings
        .iter()
        .map(|f| f.check.len())
        .max()
        .unwrap_or(0)
        .max(12);
    let mut out = String::new();
    let mut tenant: Option<&str> = None;
    for f in findings {
        if tenant != Some(f.tenant.as_str()) {
            if tenant.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "tenant {}", f.tenant);
            tenant = Some(&f.tenant);
        }
        let _ = writeln!(
            out,
            "  {:<4}  {:<width$}  {}",
            f.status.label(),
            f.check,
            f.detail
        );
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "  {:<4}  {:<width$}  fix: {fix}", "", "");
        }
    }
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    let tenants = {
        let mut ids: Vec<&str> = findings.iter().map(|f| f.tenant.as_str()).collect();
        ids.dedup();
        ids.len()
    };
    let _ = writeln!(
        out,
        "\n{tenants} tenant(s), {} checks: {} ok, {} warn, {} FAIL",
        findings.len(),
        count(Status::Ok),
        count(Status::Warn),
        count(Status::Fail)
    );
    out
}

/// `--json`: one object per check (`tenant`, `check`, `status`, `detail`, `fix`).
pub fn render_json(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| serde_json::to_string(f).unwrap_or_default() + "\n")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(tenant: &str, check: &str, status: Status, fix: Option<&str>) -> Finding {
        Finding {
            tenant: tenant.into(),
            check: check.into(),
            status,
            detail: format!("{check} detail"),
            fix: fix.map(String::from),
        }
    }

    #[test]
    fn text_is_aligned_per_tenant_with_fixes_under_their_line() {
        let text = render_text(&[
            finding("acme", "base_url", Status::Ok, None),
            finding(
                "acme",
                "permission:ADMINISTER",
                Status::Fail,
                Some("grant it"),
            ),
            finding("shop", "clock", Status::Warn, Some("use NTP")),
        ]);
        let want = "\
tenant acme
  ok    base_url               base_url detail
  FAIL  permission:ADMINISTER  permission:ADMINISTER detail
                               fix: grant it

tenant shop
  warn  clock                  clock detail
                               fix: use NTP

2 tenant(s), 3 checks: 1 ok, 1 warn, 1 FAIL
";
        assert_eq!(text, want);
    }

    #[test]
    fn json_is_one_object_per_line_with_lowercase_status() {
        let json = render_json(&[
            finding("acme", "clock", Status::Fail, Some("x")),
            finding("acme", "rate_limit", Status::Ok, None),
        ]);
        let lines: Vec<serde_json::Value> = json
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            serde_json::json!({"tenant": "acme", "check": "clock", "status": "fail",
                "detail": "clock detail", "fix": "x"})
        );
        assert_eq!(lines[1]["status"], "ok");
        assert!(lines[1]["fix"].is_null());
    }
}
