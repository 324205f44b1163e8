//! `signup-bridge doctor`: read-only checks of every tenant the bridge would call — each
//! `[[tenants]]` entry and each Connect and Forge installation in the database — so a
//! help-desk admin learns what is wrong before the first signup fails (docs/API.md, doctor).
//!
//! Read-only is the rule that shapes this module:
//! - only `GET`s reach JSM (`myself`, `mypermissions`, `servicedesk/{id}`,
//!   `organization/{id}`), each with `requestLanguage=en-US`, so nothing is ever created;
//! - the database is opened read-only and never created (see `Store::open_read_only`);
//! - credentials are made by the providers delivery uses (`OutboundAuth`, the Connect and
//!   Forge providers), but a refused credential is only reported: the providers' reactions to
//!   a 401 (dropping a Forge token, refreshing an OAuth token) are never triggered.
//!
//! Per tenant the checks run in order and each yields one [`Finding`]; a finding that makes the
//! rest meaningless (no usable credentials, JSM unreachable, credentials refused) ends that
//! tenant's list. `access` and `checks` judge answers (pure, table-tested), `probe` makes the
//! calls, `targets` and `installations` gather what to check, `runner` sequences it and `render` prints it.

mod access;
mod checks;
mod installations;
mod probe;
mod render;
mod runner;
mod targets;

pub use render::{render_json, render_text};
pub use runner::run;
pub use targets::{GatherError, Options, Target, gather};

use serde::Serialize;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    /// The word printed in the human output.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "FAIL",
        }
    }
}

/// One check of one tenant: one output line (one JSON object with `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub tenant: String,
    pub check: String,
    pub status: Status,
    /// What was found, in plain words; never a secret or token.
    pub detail: String,
    /// What to do about it; `None` when nothing needs doing.
    pub fix: Option<String>,
}

/// A finding before its tenant is known (checks are written per tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub check: String,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

impl Verdict {
    pub fn ok(check: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn warn(
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            status: Status::Warn,
            fix: Some(fix.into()),
            ..Self::ok(check, detail)
        }
    }

    pub fn fail(
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            status: Status::Fail,
            fix: Some(fix.into()),
            ..Self::ok(check, detail)
        }
    }

    /// This verdict as a finding of `tenant`.
    pub fn of(self, tenant: &str) -> Finding {
        Finding {
            tenant: tenant.to_string(),
            check: self.check,
            status: self.status,
            detail: self.detail,
            fix: self.fix,
        }
    }
}
