//! The public face of a JSM failure: a stable category and a short reason, never JSM's own
//! message or the transport chain (those stay in the log and in `signups show`).

use super::JsmError;
use crate::domain::LastError;

impl JsmError {
    /// What a run that failed on `step` with this error records.
    pub fn last_error(&self, step: &str) -> LastError {
        if let Self::StepNotFound(reason) = self {
            // SPEC §17: the reason is the whole text (it names the desk or organization).
            return LastError::new("not_found", reason, &format!("{step}: {self}"));
        }
        LastError::new(
            self.category(),
            &format!("{} (step {step})", self.short_reason()),
            &format!("{step}: {self}"),
        )
    }

    /// The `lastError` category (see `domain::last_error::CATEGORIES`).
    pub fn category(&self) -> &'static str {
        match self {
            Self::Server { .. } => "jsm_unavailable",
            Self::Timeout | Self::Network(_) => "network_error",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unauthorized | Self::Forbidden | Self::Auth(_) => "jsm_auth",
            Self::PermissionDenied(_) | Self::PermissionMissing(_) => "jsm_permission",
            Self::NotFound(_) | Self::StepNotFound(_) => "not_found",
            Self::Rejected { .. } | Self::StepRejected { .. } => "rejected",
            Self::InvalidResponse(_) => "invalid_response",
        }
    }

    /// A short reason with no upstream text in it.
    pub fn short_reason(&self) -> String {
        match self {
            Self::Server { status, .. } => format!("JSM answered {status}"),
            Self::Timeout => "JSM did not answer in time".into(),
            Self::Network(_) => "connection failed".into(),
            Self::RateLimited { .. } => "JSM answered 429; the tenant is paused".into(),
            Self::Unauthorized => "JSM refused the bridge's credentials (401)".into(),
            Self::Forbidden => "the bridge's credentials lack permission (403)".into(),
            Self::PermissionDenied(permission) => {
                format!("the credentials lack {permission} (403)")
            }
            Self::PermissionMissing(permission) => format!("the app lacks {permission} (403)"),
            Self::StepNotFound(reason) => reason.clone(),
            Self::Auth(_) => "could not obtain credentials for JSM".into(),
            Self::NotFound(_) => "JSM answered 404".into(),
            Self::Rejected { status, .. } => format!("JSM refused the customer ({status})"),
            Self::StepRejected { reason, .. } => reason.clone(),
            Self::InvalidResponse(_) => "JSM answered with an unexpected body".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_carry_no_upstream_text() {
        let secret_ish = "fred@example.com tcp connect error: 10.0.0.7:443 refused";
        let cases = [
            (
                JsmError::Server {
                    status: 503,
                    message: Some(secret_ish.into()),
                    retry_after: None,
                },
                "jsm_unavailable",
                "JSM answered 503",
            ),
            (
                JsmError::Network(secret_ish.into()),
                "network_error",
                "connection failed",
            ),
            (
                JsmError::Rejected {
                    status: 400,
                    message: secret_ish.into(),
                },
                "rejected",
                "JSM refused the customer (400)",
            ),
            (
                JsmError::NotFound(Some(secret_ish.into())),
                "not_found",
                "JSM answered 404",
            ),
            (
                JsmError::Auth(secret_ish.into()),
                "jsm_auth",
                "could not obtain credentials for JSM",
            ),
            (
                JsmError::InvalidResponse(secret_ish.into()),
                "invalid_response",
                "JSM answered with an unexpected body",
            ),
        ];
        for (error, category, reason) in cases {
            assert_eq!(error.category(), category, "{error:?}");
            assert_eq!(error.short_reason(), reason, "{error:?}");
            assert!(crate::domain::LAST_ERROR_CATEGORIES.contains(&category));
        }
    }
}
