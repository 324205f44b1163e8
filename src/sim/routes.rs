//! The JSM Cloud API surface the bridge uses, over the simulator's state. Each behaviour
//! names the published fact it models (Atlassian's OpenAPI documents: JSM Cloud `jsm.v3.json`,
//! Jira platform swagger v3; SPEC §17):
//!
//! - `POST /rest/servicedeskapi/customer` (jsm.v3.json `createCustomer`): 201 UserDTO; emails
//!   are unique case-insensitively: a duplicate is 409 with `strictConflictStatusCode=true`,
//!   else 400; 403 without *Jira Administrators* (`ADMINISTER`).
//! - `GET /rest/api/3/user/search`, `myself`, `mypermissions` and the desk customer search:
//!   see `users`.
//! - `GET`/`POST` on `servicedesk/{id}` and `organization/{id}`: see `desks`.
//! - `POST /rest/servicedeskapi/request` and `GET servicedesk/{id}/requesttype/{id}`: see
//!   `issues`; `GET /rest/api/3/search/jql`: see `search`.

use super::identity::Caller;
use super::reply::{Lang, Reply};
use super::state::{SimCustomer, SimState};
use serde::Deserialize;
use serde_json::{Value, json};

/// The parts of a JSM request the routes read (auth already checked).
pub(crate) struct JsmRequest<'a> {
    pub method: &'a str,
    /// Path relative to the context path.
    pub path: &'a str,
    pub query: &'a str,
    pub content_type: Option<&'a str>,
    /// `X-ExperimentalApi: opt-in` was sent.
    pub experimental: bool,
    pub body: &'a [u8],
    /// Who the credentials say the caller is.
    pub caller: &'a Caller,
    /// The language of the answer's messages.
    pub lang: Lang,
}

/// Answers one JSM API request, applying its effect to `state`.
pub(crate) fn handle(state: &SimState, req: &JsmRequest<'_>) -> Reply {
    use super::{desks, issues, search, users};
    let path = req.path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let get = req.method.eq_ignore_ascii_case("GET");
    let post = req.method.eq_ignore_ascii_case("POST");
    // JSM organization ids are int32 path ids (jsm.v3.json): anything else names no resource.
    let numeric = |id: &str| id.parse::<i32>().is_ok();
    match segments.as_slice() {
        ["rest", "servicedeskapi", "customer"] if post => create_customer(state, req),
        ["rest", "api", "3", "user", "search"] if get => users::search(state, req),
        ["rest", "api", "3", "myself"] if get => users::myself(state, req),
        ["rest", "api", "3", "mypermissions"] if get => users::my_permissions(state, req),
        ["rest", "servicedeskapi", "servicedesk", id] if get => desks::get_desk(state, req, id),
        ["rest", "servicedeskapi", "servicedesk", id, "customer"] if get => {
            users::desk_customers(state, req, id)
        }
        ["rest", "servicedeskapi", "servicedesk", id, "customer"] if post => {
            desks::add_members(state, req, id, false)
        }
        ["rest", "servicedeskapi", "organization", id] if get && numeric(id) => {
            desks::get_organization(state, req, id)
        }
        ["rest", "servicedeskapi", "organization", id, "user"] if post && numeric(id) => {
            desks::add_members(state, req, id, true)
        }
        ["rest", "servicedeskapi", "request"] if post => issues::create_request(state, req),
        ["rest", "api", "3", "search", "jql"] if get => search::search(state, req),
        [
            "rest",
            "servicedeskapi",
            "servicedesk",
            desk,
            "requesttype",
            id,
        ] if get => issues::get_request_type(state, req, desk, id),
        ["rest", "servicedeskapi", "customer"]
        | [
            "rest",
            "api",
            "3",
            "user",
            "search" | "myself" | "mypermissions",
        ]
        | ["rest", "servicedeskapi", "request"]
        | ["rest", "api", "3", "search", "jql"]
        | ["rest", "servicedeskapi", "servicedesk", _, "requesttype", _]
        | ["rest", "servicedeskapi", "servicedesk", _]
        | ["rest", "servicedeskapi", "servicedesk", _, "customer"] => Reply::method_not_allowed(),
        ["rest", "servicedeskapi", "organization", id, ..] if numeric(id) => {
            Reply::method_not_allowed()
        }
        _ => Reply::not_found(req.lang),
    }
}

pub(crate) fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    email: Option<String>,
    display_name: Option<String>,
    full_name: Option<String>,
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn create_customer(state: &SimState, req: &JsmRequest<'_>) -> Reply {
    if !is_json(req.content_type) {
        return Reply::empty(415);
    }
    let lang = req.lang;
    if !state
        .lock()
        .facts
        .permissions_of(&req.caller.key())
        .administer
    {
        return forbidden(lang);
    }
    let Ok(body) = serde_json::from_slice::<CreateBody>(req.body) else {
        return Reply::jsm_error(
            400,
            &lang.pick(
                "The request body is not valid.",
                "Der Anfragetext ist ungültig.",
            ),
            "sd.public.api.error.invalid.request.body",
            &[],
        );
    };
    let email = body.email.as_deref().unwrap_or("").trim().to_string();
    if !valid_email(&email) {
        return Reply::jsm_error(
            400,
            &lang.pick(
                "The email address is invalid.",
                "Die E-Mail-Adresse ist ungültig.",
            ),
            "sd.customer.email.invalid",
            &[email.as_str()],
        );
    }
    let name = body
        .display_name
        .or(body.full_name)
        .map(|n| n.trim().to_string())
        .unwrap_or_default();
    if name.is_empty() {
        return Reply::jsm_error(
            400,
            &lang.pick(
                "The display name is required.",
                "Der Anzeigename ist erforderlich.",
            ),
            "sd.customer.display.name.required",
            &[],
        );
    }
    let strict = query_param(req.query, "strictConflictStatusCode")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut inner = state.lock();
    let taken = inner
        .customers
        .iter()
        .any(|c| c.email_address.eq_ignore_ascii_case(&email));
    if taken {
        let status = if strict { 409 } else { 400 };
        return Reply::jsm_error(
            status,
            &lang.pick(
                format!("{DUPLICATE_EMAIL_EN}: {email}"),
                format!("Für diese E-Mail-Adresse existiert bereits ein Konto: {email}"),
            ),
            "sd.customer.email.already.exists",
            &[email.as_str()],
        );
    }
    let customer = SimCustomer {
        account_id: format!("qm:{}", uuid::Uuid::new_v4()),
        email_address: email,
        display_name: name,
        active: true,
        account_type: "customer".into(),
        email_visible: true,
        service_desks: Vec::new(),
        organizations: Vec::new(),
    };
    let body = customer_json(&customer, &inner.base_url);
    inner.customers.push(customer);
    Reply::json(201, body)
}

/// The English message of the duplicate-email 400 (and 409) the simulator answers.
pub(crate) const DUPLICATE_EMAIL_EN: &str = "An account already exists for this email";

/// 403 with JSM's error body.
pub(crate) fn forbidden(lang: Lang) -> Reply {
    Reply::jsm_error(
        403,
        &lang.pick(
            "You do not have permission to perform this operation.",
            "Sie haben keine Berechtigung, diesen Vorgang auszuführen.",
        ),
        "sd.public.api.error.forbidden",
        &[],
    )
}

/// A customer as JSM shows it: jsm.v3.json `UserDTO` (accountId, name, key, emailAddress,
/// displayName, active, timeZone, _links); `emailAddress` absent when the profile hides it.
pub(crate) fn customer_json(c: &SimCustomer, base_url: &str) -> Value {
    let user_url = format!("{base_url}/rest/api/2/user?accountId={}", c.account_id);
    let avatar = |size: &str| format!("{base_url}/secure/useravatar?size={size}&avatarId=10122");
    let mut user = json!({
        "accountId": c.account_id,
        "name": c.account_id,
        "key": c.account_id,
        "emailAddress": c.email_address,
        "displayName": c.display_name,
        "active": c.active,
        "timeZone": "Etc/UTC",
        "_links": {
            "jiraRest": user_url,
            "avatarUrls": {
                "48x48": avatar("large"),
                "24x24": avatar("small"),
                "16x16": avatar("xsmall"),
                "32x32": avatar("medium"),
            },
            "self": user_url,
        },
    });
    if !c.email_visible {
        user.as_object_mut().map(|o| o.remove("emailAddress"));
    }
    user
}
