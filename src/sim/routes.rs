//! The JSM Cloud API surface the bridge uses, over the simulator's state.
//!
//! - `POST /rest/servicedeskapi/customer` creates a customer; emails are unique
//!   case-insensitively: a duplicate is 409 with `strictConflictStatusCode=true`, else 400.
//! - `GET /rest/api/3/user/search?query=` finds users whose email or display name contains
//!   the query (case-insensitive), so near misses come back like on JSM.
//! - `POST /rest/servicedeskapi/servicedesk/{id}/customer` and
//!   `POST /rest/servicedeskapi/organization/{id}/user` add `accountIds`: 204.

use super::reply::Reply;
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
    pub body: &'a [u8],
}

/// Answers one JSM API request, applying its effect to `state`.
pub(crate) fn handle(state: &SimState, req: &JsmRequest<'_>) -> Reply {
    let path = req.path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let (allowed, handler): (&str, Handler<'_>) = match segments.as_slice() {
        ["rest", "servicedeskapi", "customer"] => ("POST", Box::new(create_customer)),
        ["rest", "api", "3", "user", "search"] => ("GET", Box::new(search_users)),
        ["rest", "servicedeskapi", "servicedesk", id, "customer"] => {
            ("POST", Box::new(|s, r| add_members(s, r, id, false)))
        }
        // JSM organization ids are numbers; anything else names no resource.
        ["rest", "servicedeskapi", "organization", id, "user"] if id.parse::<u64>().is_ok() => {
            ("POST", Box::new(|s, r| add_members(s, r, id, true)))
        }
        _ => return Reply::not_found(),
    };
    if !req.method.eq_ignore_ascii_case(allowed) {
        return Reply::method_not_allowed();
    }
    handler(state, req)
}

type Handler<'h> = Box<dyn FnOnce(&SimState, &JsmRequest<'_>) -> Reply + 'h>;

fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn query_param(query: &str, name: &str) -> Option<String> {
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
    let Ok(body) = serde_json::from_slice::<CreateBody>(req.body) else {
        return Reply::jsm_error(
            400,
            "The request body is not valid.",
            "sd.public.api.error.invalid.request.body",
            &[],
        );
    };
    let email = body.email.as_deref().unwrap_or("").trim().to_string();
    if !valid_email(&email) {
        return Reply::jsm_error(
            400,
            "The email address is invalid.",
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
            "The display name is required.",
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
            &format!("An account already exists for this email: {email}"),
            "sd.customer.email.already.exists",
            &[email.as_str()],
        );
    }
    let customer = SimCustomer {
        account_id: format!("qm:{}", uuid::Uuid::new_v4()),
        email_address: email,
        display_name: name,
        active: true,
        service_desks: Vec::new(),
        organizations: Vec::new(),
    };
    let body = customer_json(&customer, &inner.base_url);
    inner.customers.push(customer);
    Reply::json(201, body)
}

/// A customer as JSM's create answer shows it.
fn customer_json(c: &SimCustomer, base_url: &str) -> Value {
    let user_url = format!("{base_url}/rest/api/2/user?accountId={}", c.account_id);
    let avatar = |size: &str| format!("{base_url}/secure/useravatar?size={size}&avatarId=10122");
    json!({
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
    })
}

fn search_users(state: &SimState, req: &JsmRequest<'_>) -> Reply {
    let query = query_param(req.query, "query").unwrap_or_default();
    if query.trim().is_empty() {
        return Reply::platform_error(
            400,
            "The query parameter 'query' or 'accountId' is required.",
        );
    }
    let number = |name: &str, default: usize| {
        query_param(req.query, name)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let (start_at, max_results) = (number("startAt", 0), number("maxResults", 50).min(1000));
    let needle = query.trim().to_lowercase();
    let inner = state.lock();
    let users: Vec<Value> = inner
        .customers
        .iter()
        .filter(|c| {
            c.email_address.to_lowercase().contains(&needle)
                || c.display_name.to_lowercase().contains(&needle)
        })
        .skip(start_at)
        .take(max_results)
        .map(|c| {
            let mut user = json!({
                "self": format!("{}/rest/api/3/user?accountId={}", inner.base_url, c.account_id),
                "accountId": c.account_id,
                "accountType": "customer",
                "displayName": c.display_name,
                "active": c.active,
                // Jira's user search shows the whole profile; the bridge must not pass it on.
                "avatarUrls": {
                    "48x48": format!("{}/secure/useravatar?size=large&avatarId=10122", inner.base_url),
                },
                "timeZone": "Etc/UTC",
                "locale": "en_US",
            });
            if !inner.hide_emails {
                user["emailAddress"] = json!(c.email_address);
            }
            user
        })
        .collect();
    Reply::json(200, Value::Array(users))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MembersBody {
    #[serde(default)]
    account_ids: Vec<String>,
}

fn add_members(state: &SimState, req: &JsmRequest<'_>, id: &str, organization: bool) -> Reply {
    if !is_json(req.content_type) {
        return Reply::empty(415);
    }
    let body = match serde_json::from_slice::<MembersBody>(req.body) {
        Ok(body) if !body.account_ids.is_empty() => body,
        _ => {
            return Reply::jsm_error(
                400,
                "You must provide at least one accountId.",
                "sd.public.api.error.account.ids.required",
                &[],
            );
        }
    };
    let mut inner = state.lock();
    let unknown: Vec<&str> = body
        .account_ids
        .iter()
        .filter(|id| !inner.customers.iter().any(|c| &c.account_id == *id))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let list = unknown.join(", ");
        return Reply::jsm_error(
            400,
            &format!("The following users do not exist: {list}"),
            "sd.public.api.error.users.not.found",
            &[list.as_str()],
        );
    }
    for customer in inner
        .customers
        .iter_mut()
        .filter(|c| body.account_ids.contains(&c.account_id))
    {
        let list = if organization {
            &mut customer.organizations
        } else {
            &mut customer.service_desks
        };
        if !list.iter().any(|x| x == id) {
            list.push(id.to_string());
        }
    }
    Reply::empty(204)
}
