//! A recorded signup: its status, its steps and the JSON view clients see (docs/API.md).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Where a signup stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignupStatus {
    Pending,
    Created,
    Existing,
    Failed,
}

impl SignupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Created => "created",
            Self::Existing => "existing",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "created" => Self::Created,
            "existing" => Self::Existing,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    /// True once nothing more will happen without an operator.
    pub fn is_final(self) -> bool {
        self != Self::Pending
    }
}

/// The state of one step of a signup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Done,
    Skipped,
    Failed,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "done" => Self::Done,
            "skipped" => Self::Skipped,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// What a step does, parsed from its name (`create`, `service_desk:<id>`, `organization:<id>`,
/// `welcome_request:<service desk id>:<request type id>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    Create,
    ServiceDesk(String),
    Organization(String),
    /// The welcome request (SPEC §20), raised in this desk with this request type.
    WelcomeRequest {
        service_desk: String,
        request_type: String,
    },
}

impl StepKind {
    pub fn name(&self) -> String {
        match self {
            Self::Create => "create".into(),
            Self::ServiceDesk(id) => format!("service_desk:{id}"),
            Self::Organization(id) => format!("organization:{id}"),
            Self::WelcomeRequest {
                service_desk,
                request_type,
            } => format!("welcome_request:{service_desk}:{request_type}"),
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name.split_once(':') {
            None if name == "create" => Some(Self::Create),
            Some(("service_desk", id)) => Some(Self::ServiceDesk(id.into())),
            Some(("organization", id)) => Some(Self::Organization(id.into())),
            Some(("welcome_request", ids)) => {
                let (desk, rtype) = ids.split_once(':')?;
                Some(Self::WelcomeRequest {
                    service_desk: desk.into(),
                    request_type: rtype.into(),
                })
            }
            _ => None,
        }
    }
}

/// One step of a signup as stored and shown: `create`, then `service_desk:<id>` and
/// `organization:<id>` in configuration order, then `welcome_request:<desk>:<request type>`
/// when one is configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    pub name: String,
    pub state: StepState,
}

/// What an erased signup's email, display name and customer profile read (docs/OPERATIONS.md,
/// erase). No stored email can equal it: an email needs an `@`.
pub const ERASED: &str = "erased";

/// A signup as recorded in the store.
#[derive(Debug, Clone)]
pub struct Signup {
    pub id: String,
    pub source_id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    /// The `[[tenants]]` id or the installation clientKey.
    pub tenant: String,
    pub email: String,
    pub display_name: String,
    pub status: SignupStatus,
    pub steps: Vec<Step>,
    pub customer: Option<serde_json::Value>,
    pub attempts: u32,
    /// Runs allowed in all; `signups retry` raises it by `max_attempts`.
    pub attempt_limit: u32,
    /// `<category>: <short reason>`, what API answers show.
    pub last_error: Option<String>,
    /// The full detail behind `last_error`, for the log and `signups show` only.
    pub last_error_detail: Option<String>,
    pub next_attempt_at: i64,
    pub lease_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The JSON body clients see for a signup.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignupView {
    pub id: String,
    pub status: SignupStatus,
    pub idempotency_key: String,
    pub tenant: String,
    /// Absent once the signup is erased.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// Absent once the signup is erased.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// `true` once the person's data was erased (`signups erase`): no email, display name or
    /// customer profile is kept; only `customer.accountId` may remain.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
    /// JSM's customer, as soon as it is known (null while unknown, or if JSM hides it).
    #[schema(value_type = Option<Object>)]
    pub customer: Option<serde_json::Value>,
    pub steps: Vec<Step>,
    /// Delivery runs so far.
    pub attempts: u32,
    /// The latest failure while the signup is not done (`<category>: <short reason>`); on an
    /// `existing` signup without a readable account, `account_unreadable: …`.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl Signup {
    /// Whether the person's data was erased.
    pub fn is_erased(&self) -> bool {
        self.email == ERASED
    }

    pub fn view(&self) -> SignupView {
        if self.is_erased() {
            return SignupView {
                email: String::new(),
                display_name: String::new(),
                erased: true,
                customer: self.customer.clone(),
                ..self.view_of_unerased()
            };
        }
        self.view_of_unerased()
    }

    fn view_of_unerased(&self) -> SignupView {
        SignupView {
            id: self.id.clone(),
            status: self.status,
            idempotency_key: self.idempotency_key.clone(),
            tenant: self.tenant.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            erased: false,
            // Rows recorded before the filter existed still show only what a sender may see.
            customer: match self.status {
                SignupStatus::Existing => self
                    .customer
                    .as_ref()
                    .and_then(|c| super::existing_customer(c, &self.email, &self.display_name)),
                _ => self.customer.clone(),
            },
            steps: self.steps.clone(),
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            created_at: rfc3339_ms(self.created_at),
            updated_at: rfc3339_ms(self.updated_at),
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// RFC 3339 in UTC with milliseconds, from Unix milliseconds.
pub fn rfc3339_ms(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_round_trip() {
        for kind in [
            StepKind::Create,
            StepKind::ServiceDesk("10".into()),
            StepKind::Organization("ORG-1".into()),
            StepKind::WelcomeRequest {
                service_desk: "10".into(),
                request_type: "5".into(),
            },
        ] {
            assert_eq!(StepKind::parse(&kind.name()), Some(kind));
        }
        assert_eq!(StepKind::parse("bogus"), None);
        assert_eq!(StepKind::parse("welcome_request:10"), None);
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
