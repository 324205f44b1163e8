//! Which JSM call failed, so a 403 names the permission that very call needs and a 404 on a
//! desk or organization step names what is missing (SPEC §17, from Atlassian's published
//! OpenAPI documents: jsm.v3.json and the Jira platform swagger v3).

use super::JsmError;

/// One of the JSM calls the bridge makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsmCall<'a> {
    /// `POST /rest/servicedeskapi/customer`.
    Create,
    /// `GET /rest/api/3/user/search`.
    UserSearch,
    /// `GET /rest/servicedeskapi/servicedesk/{id}/customer`.
    DeskSearch(&'a str),
    /// `POST /rest/servicedeskapi/servicedesk/{id}/customer`.
    DeskAdd(&'a str),
    /// `POST /rest/servicedeskapi/organization/{id}/user`.
    OrganizationAdd(&'a str),
}

impl JsmCall<'_> {
    /// The path template of the call, as traces name it (never the ids themselves).
    pub fn route(&self) -> &'static str {
        match self {
            Self::Create => "/rest/servicedeskapi/customer",
            Self::UserSearch => "/rest/api/3/user/search",
            Self::DeskSearch(_) | Self::DeskAdd(_) => {
                "/rest/servicedeskapi/servicedesk/{serviceDeskId}/customer"
            }
            Self::OrganizationAdd(_) => "/rest/servicedeskapi/organization/{organizationId}/user",
        }
    }

    /// The permission this call needs, as a 403's `lastError` names it.
    pub fn permission(&self) -> String {
        match self {
            Self::Create => {
                "the Jira Administrators global permission (ADMINISTER) the customer create needs"
                    .into()
            }
            Self::UserSearch => {
                "the Browse users and groups global permission (USER_PICKER) the user search needs"
                    .into()
            }
            Self::DeskSearch(id) => format!("agent or admin rights on service desk {id}"),
            Self::DeskAdd(id) => format!("admin rights on service desk {id}"),
            Self::OrganizationAdd(id) => {
                format!("admin or agent rights on a service desk of organization {id}")
            }
        }
    }

    /// The error to record for `error` answered to this call: a 403 names the permission; a
    /// 404 on a desk or organization step is final and says what cannot be found.
    pub fn name(&self, error: JsmError) -> JsmError {
        match (error, self) {
            (JsmError::Forbidden, _) => JsmError::PermissionDenied(self.permission()),
            (JsmError::PermissionMissing(_), _) => JsmError::PermissionMissing(self.permission()),
            (JsmError::NotFound(_), Self::DeskAdd(id)) => JsmError::StepNotFound(format!(
                "service desk {id} does not exist or cannot be seen by these credentials"
            )),
            (JsmError::NotFound(_), Self::OrganizationAdd(id)) => JsmError::StepNotFound(format!(
                "organization {id} does not exist or cannot be seen by these credentials"
            )),
            (error, _) => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_and_not_found_are_named_per_call() {
        let cases = [
            (JsmCall::Create, JsmError::Forbidden, "ADMINISTER", true),
            (
                JsmCall::UserSearch,
                JsmError::Forbidden,
                "USER_PICKER",
                true,
            ),
            (
                JsmCall::DeskAdd("12"),
                JsmError::Forbidden,
                "service desk 12",
                true,
            ),
            (
                JsmCall::OrganizationAdd("7"),
                JsmError::Forbidden,
                "organization 7",
                true,
            ),
            (
                JsmCall::Create,
                JsmError::PermissionMissing("x".into()),
                "ADMINISTER",
                false,
            ),
        ];
        for (call, error, names, retryable) in cases {
            let named = call.name(error);
            assert!(named.to_string().contains(names), "{call:?}: {named}");
            assert_eq!(named.is_retryable(), retryable, "{call:?}");
            assert_eq!(named.category(), "jsm_permission");
        }
        let missing = JsmCall::DeskAdd("12").name(JsmError::NotFound(None));
        assert_eq!(
            missing.last_error("servicedesk:12").summary,
            "not_found: service desk 12 does not exist or cannot be seen by these credentials"
        );
        assert!(!missing.is_retryable());
        let org = JsmCall::OrganizationAdd("7").name(JsmError::NotFound(None));
        assert!(org.to_string().contains("organization 7 does not exist"));
        // A 404 on the create stays a retryable 404.
        assert!(
            JsmCall::Create
                .name(JsmError::NotFound(None))
                .is_retryable()
        );
    }
}
