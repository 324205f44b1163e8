//! Customer requests (SPEC §20's welcome request), as JSM Cloud publishes them:
//!
//! - `POST /rest/servicedeskapi/request` (jsm.v3.json `createCustomerRequest`), body
//!   `{serviceDeskId, requestTypeId, requestFieldValues: {summary, description}, raiseOnBehalfOf}`:
//!   201 `CustomerRequestDTO` (issueId, issueKey, requestTypeId, serviceDeskId, createdDate,
//!   reporter, requestFieldValues, currentStatus, _links). Needs permission to create requests
//!   in the desk, and `raiseOnBehalfOf` an agent's (`deskAdmin` stands for it): else 403. An
//!   unknown desk is 404; an unknown request type, a missing or too long summary, or an unknown
//!   `raiseOnBehalfOf` account is 400 (the simulator's choice of status; a client should treat
//!   both as final).
//! - `GET /rest/servicedeskapi/servicedesk/{id}/requesttype/{requestTypeId}` (`getRequestTypeById`):
//!   `RequestTypeDTO` (id, name, description, helpText, issueTypeId, serviceDeskId, portalId,
//!   groupIds, _links); 404 for an unknown desk or request type.
//! - The JQL search over these requests: see `search`.
//!
//! Which request type ids exist is the `requestTypes` switch (default: every id, in every desk).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::desks::desk_not_found;
use super::reply::{Lang, Reply};
use super::routes::{JsmRequest, forbidden, is_json};
use super::state::{SimState, unix_ms};

/// A customer request the simulator holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimIssue {
    pub issue_id: String,
    pub issue_key: String,
    pub service_desk_id: String,
    pub request_type_id: String,
    /// The reporter's accountId (`raiseOnBehalfOf`, else the caller's identity).
    pub reporter: String,
    pub summary: String,
    pub description: String,
    pub created_ms: u64,
}

/// An id JSON gives as a string or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(u64),
}

impl Id {
    fn text(&self) -> String {
        match self {
            Id::Text(s) => s.clone(),
            Id::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    service_desk_id: Option<Id>,
    request_type_id: Option<Id>,
    #[serde(default)]
    request_field_values: serde_json::Map<String, Value>,
    raise_on_behalf_of: Option<String>,
}

fn bad(lang: Lang, en: String, de: String, key: &str) -> Reply {
    Reply::jsm_error(400, &lang.pick(en, de), key, &[])
}

/// `POST /rest/servicedeskapi/request`.
pub(crate) fn create_request(state: &SimState, req: &JsmRequest<'_>) -> Reply {
    if !is_json(req.content_type) {
        return Reply::empty(415);
    }
    let lang = req.lang;
    let Ok(body) = serde_json::from_slice::<CreateBody>(req.body) else {
        let (en, de) = (
            "The request body is not valid.",
            "Der Anfragetext ist ungültig.",
        );
        return bad(
            lang,
            en.into(),
            de.into(),
            "sd.public.api.error.invalid.request.body",
        );
    };
    let desk = body
        .service_desk_id
        .as_ref()
        .map(Id::text)
        .unwrap_or_default();
    let rtype = body
        .request_type_id
        .as_ref()
        .map(Id::text)
        .unwrap_or_default();
    let mut inner = state.lock();
    if !inner.facts.desk_exists(&desk) {
        return desk_not_found(lang, &desk);
    }
    if rtype.is_empty() || !inner.facts.request_type_exists(&rtype) {
        return bad(
            lang,
            format!("The request type {rtype} does not exist in service desk {desk}."),
            format!("Der Anfragetyp {rtype} existiert im Service Desk {desk} nicht."),
            "sd.public.api.error.requesttype.not.found",
        );
    }
    if !inner.facts.permissions_of(&req.caller.key()).desk_admin {
        return forbidden(lang);
    }
    let text = |name: &str| {
        let value = body.request_field_values.get(name);
        value.and_then(Value::as_str).unwrap_or("").to_string()
    };
    let (summary, description) = (text("summary"), text("description"));
    if summary.trim().is_empty() || summary.chars().count() > 255 || summary.contains('\n') {
        return bad(
            lang,
            "Summary: enter a summary of one line, at most 255 characters.".into(),
            "Zusammenfassung: eine Zeile, höchstens 255 Zeichen.".into(),
            "sd.public.api.error.summary.invalid",
        );
    }
    let reporter = match &body.raise_on_behalf_of {
        Some(account) => match inner.customers.iter().find(|c| &c.account_id == account) {
            Some(c) => c.clone(),
            None => {
                return bad(
                    lang,
                    format!("raiseOnBehalfOf: the user {account} does not exist."),
                    format!("raiseOnBehalfOf: Der Benutzer {account} existiert nicht."),
                    "sd.public.api.error.user.not.found",
                );
            }
        },
        None => return forbidden(lang),
    };
    let number = inner
        .issues
        .iter()
        .filter(|i| i.service_desk_id == desk)
        .count()
        + 1;
    let issue = SimIssue {
        issue_id: (10_000 + inner.issues.len() + 1).to_string(),
        issue_key: format!("{}-{number}", project_key(&desk)),
        service_desk_id: desk,
        request_type_id: rtype,
        reporter: reporter.account_id.clone(),
        summary,
        description,
        created_ms: unix_ms(std::time::SystemTime::now()),
    };
    let base = inner.base_url.clone();
    let user = super::routes::customer_json(&reporter, &base);
    inner.issues.push(issue.clone());
    Reply::json(201, request_json(&issue, user, &base))
}

/// The project key of a desk (as `GET servicedesk/{id}` shows it).
pub(crate) fn project_key(desk: &str) -> String {
    format!("SD{desk}")
}

fn request_json(issue: &SimIssue, reporter: Value, base: &str) -> Value {
    let created = json!({
        "epochMillis": issue.created_ms,
        "iso8601": crate::domain::rfc3339_ms(issue.created_ms as i64),
    });
    let field =
        |id: &str, label: &str, value: &str| json!({"fieldId": id, "label": label, "value": value});
    json!({
        "issueId": issue.issue_id,
        "issueKey": issue.issue_key,
        "requestTypeId": issue.request_type_id,
        "serviceDeskId": issue.service_desk_id,
        "createdDate": created,
        "reporter": reporter,
        "requestFieldValues": [
            field("summary", "Summary", &issue.summary),
            field("description", "Description", &issue.description),
        ],
        "currentStatus": {"status": "Waiting for support", "statusCategory": "NEW", "statusDate": created},
        "_links": {
            "self": format!("{base}/rest/servicedeskapi/request/{}", issue.issue_id),
            "jiraRest": format!("{base}/rest/api/2/issue/{}", issue.issue_id),
            "web": format!("{base}/servicedesk/customer/portal/{}/{}", issue.service_desk_id, issue.issue_key),
        },
    })
}

/// `GET /rest/servicedeskapi/servicedesk/{id}/requesttype/{requestTypeId}`.
pub(crate) fn get_request_type(
    state: &SimState,
    req: &JsmRequest<'_>,
    desk: &str,
    id: &str,
) -> Reply {
    let inner = state.lock();
    if !inner.facts.desk_exists(desk) {
        return desk_not_found(req.lang, desk);
    }
    if !inner.facts.request_type_exists(id) {
        return Reply::jsm_error(
            404,
            &req.lang.pick(
                format!("The request type {id} does not exist in service desk {desk}."),
                format!("Der Anfragetyp {id} existiert im Service Desk {desk} nicht."),
            ),
            "sd.public.api.error.requesttype.not.found",
            &[id],
        );
    }
    Reply::json(
        200,
        json!({
            "id": id,
            "name": format!("Request type {id}"),
            "description": "",
            "helpText": "",
            "issueTypeId": "10001",
            "serviceDeskId": desk,
            "portalId": desk,
            "groupIds": [],
            "_links": {"self": format!("{}/rest/servicedeskapi/servicedesk/{desk}/requesttype/{id}", inner.base_url)},
        }),
    )
}
