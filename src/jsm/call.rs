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
    /// `POST /rest/servicedeskapi/request` (the welcome request, SPEC §20): desk, request type.
    RequestCreate(&'a str, &'a str),
    /// `GET /rest/api/3/search/jql` (looking for a welcome request whose answer was lost),
    /// in this desk.
    IssueSearch(&'a str),
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
            Self::RequestCreate(..) => "/rest/servicedeskapi/request",
            Self::IssueSearch(_) => "/rest/api/3/search/jql",
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
            Self::RequestCreate(desk, _) => format!(
                "agent rights on service desk {desk} (raising a request on a customer's behalf \
                 needs them)"
            ),
            Self::IssueSearch(desk) => format!(
                "the Browse projects permission on service desk {desk}'s project the request \
                 search needs"
            ),
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
            (JsmError::NotFound(_), Self::RequestCreate(desk, rtype)) => {
                JsmError::StepNotFound(format!(
                    "service desk {desk} or its request type {rtype} does not exist or cannot be \
                     seen by these credentials; correct welcome_request.service_desk_id and \
                     request_type_id"
                ))
            }
            (JsmError::Rejected { status, message }, Self::RequestCreate(desk, rtype)) => {
                JsmError::StepRejected {
                    status,
                    reason: format!(
                        "JSM refused the welcome request ({status}); check welcome_request: \
                         request type {rtype} must exist in service desk {desk} and need no \
                         fields but summary and description"
                    ),
                    message,
                }
            }
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
                JsmCall::RequestCreate("10", "5"),
                JsmError::Forbidden,
                "agent rights on service desk 10",
                true,
            ),
            (
                JsmCall::IssueSearch("10"),
                JsmError::Forbidden,
                "Browse projects",
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
        let welcome = JsmCall::RequestCreate("10", "5").name(JsmError::NotFound(None));
        assert!(!welcome.is_retryable());
        assert!(welcome.to_string().contains("request type 5"), "{welcome}");
        assert!(welcome.to_string().contains("welcome_request"), "{welcome}");
        let refused = JsmCall::RequestCreate("10", "5").name(JsmError::Rejected {
            status: 400,
            message: "Field 'x' is required".into(),
        });
        assert!(!refused.is_retryable());
        assert!(
            refused.to_string().contains("Field 'x' is required"),
            "{refused}"
        );
        assert!(refused.to_string().contains("service desk 10"), "{refused}");
        let public = refused.last_error("welcome_request:10:5").summary;
        assert!(
            public.starts_with("rejected: JSM refused the welcome request (400)"),
            "{public}"
        );
        assert!(
            !public.contains("Field 'x'"),
            "JSM's text stays in the detail: {public}"
        );
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
