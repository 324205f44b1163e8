//! Finding people, as the Jira platform and JSM publish it (swagger v3, jsm.v3.json):
//!
//! - `GET /rest/api/3/user/search?query=` (swagger v3 `findUsers`): **active users only**,
//!   matching **prefixes** of email and display name (words of it); a caller without *Browse
//!   users and groups* (`USER_PICKER`) gets an **empty list**, not 403; `emailAddress` is
//!   missing when the profile hides it; `accountType` `customer` | `atlassian` | `app`.
//! - `GET /rest/servicedeskapi/servicedesk/{id}/customer?query=` (jsm.v3.json
//!   `getCustomers`): experimental (`X-ExperimentalApi: opt-in`), the desk's customers as a
//!   `PagedDTO` of `UserDTO`; 404 for an unknown desk, 403 without desk admin or agent.
//! - `GET /rest/api/3/myself` (swagger v3 `getCurrentUser`): who the credentials act as.
//! - `GET /rest/api/3/mypermissions?permissions=` (swagger v3 `getMyPermissions`):
//!   `{"permissions": {KEY: {id, key, name, type, description, havePermission}}}`.

use super::desks::desk_not_found;
use super::reply::Reply;
use super::routes::{JsmRequest, customer_json, query_param};
use super::state::{SimCustomer, SimState};
use serde_json::{Map, Value, json};

/// Whether `c` matches the search `needle` (lowercase): a prefix of the email, of the display
/// name or of one of its words; with `substring`, anywhere.
fn matches(c: &SimCustomer, needle: &str, substring: bool) -> bool {
    let email = c.email_address.to_lowercase();
    let name = c.display_name.to_lowercase();
    if substring {
        return email.contains(needle) || name.contains(needle);
    }
    email.starts_with(needle)
        || name.starts_with(needle)
        || name.split_whitespace().any(|w| w.starts_with(needle))
}

fn number(req: &JsmRequest<'_>, name: &str, default: usize) -> usize {
    query_param(req.query, name)
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(default)
}

/// `GET /rest/api/3/user/search`.
pub(crate) fn search(state: &SimState, req: &JsmRequest<'_>) -> Reply {
    let query = query_param(req.query, "query").unwrap_or_default();
    if query.trim().is_empty() {
        return Reply::platform_error(
            400,
            &req.lang.pick(
                "The query parameter 'query' or 'accountId' is required.",
                "Der Abfrageparameter 'query' oder 'accountId' ist erforderlich.",
            ),
        );
    }
    let (start_at, max_results) = (number(req, "startAt", 0), number(req, "maxResults", 50));
    let needle = query.trim().to_lowercase();
    let inner = state.lock();
    let facts = &inner.facts;
    if !facts.permissions_of(&req.caller.key()).user_picker {
        // Published: without Browse users and groups the answer is an empty list, not 403.
        return Reply::json(200, json!([]));
    }
    let base = &inner.base_url;
    let users: Vec<Value> = inner
        .customers
        .iter()
        .filter(|c| facts.include_inactive || c.active)
        .filter(|c| matches(c, &needle, facts.substring_search))
        .skip(start_at)
        .take(max_results.min(1000))
        .map(|c| {
            let mut user = json!({
                "self": format!("{base}/rest/api/3/user?accountId={}", c.account_id),
                "accountId": c.account_id,
                "accountType": c.account_type,
                "displayName": c.display_name,
                "active": c.active,
                // Jira's user search shows the whole profile; the bridge must not pass it on.
                "avatarUrls": {
                    "48x48": format!("{base}/secure/useravatar?size=large&avatarId=10122"),
                },
                "timeZone": "Etc/UTC",
                "locale": "en_US",
            });
            if c.email_visible && !inner.hide_emails {
                user["emailAddress"] = json!(c.email_address);
            }
            user
        })
        .collect();
    Reply::json(200, Value::Array(users))
}

/// `GET /rest/servicedeskapi/servicedesk/{id}/customer?query=`.
pub(crate) fn desk_customers(state: &SimState, req: &JsmRequest<'_>, desk: &str) -> Reply {
    if !req.experimental {
        return Reply::jsm_error(
            400,
            &req.lang.pick(
                "This API is experimental. You must set the header 'X-ExperimentalApi: opt-in' to use it.",
                "Diese API ist experimentell. Setzen Sie den Header 'X-ExperimentalApi: opt-in', um sie zu verwenden.",
            ),
            "sd.public.api.error.experimental.header.required",
            &[],
        );
    }
    let inner = state.lock();
    if !inner.facts.desk_exists(desk) {
        return desk_not_found(req.lang, desk);
    }
    if !inner.facts.permissions_of(&req.caller.key()).desk_admin {
        return super::routes::forbidden(req.lang);
    }
    let needle = query_param(req.query, "query")
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let (start, limit) = (
        number(req, "start", 0),
        number(req, "limit", 50).clamp(1, 100),
    );
    let hide_all = inner.hide_emails;
    let members: Vec<&SimCustomer> = inner
        .customers
        .iter()
        .filter(|c| c.service_desks.iter().any(|d| d.eq_ignore_ascii_case(desk)))
        .filter(|c| needle.is_empty() || matches(c, &needle, inner.facts.substring_search))
        .collect();
    let values: Vec<Value> = members
        .iter()
        .skip(start)
        .take(limit)
        .map(|c| {
            let mut user = customer_json(c, &inner.base_url);
            if hide_all {
                user.as_object_mut().map(|o| o.remove("emailAddress"));
            }
            user
        })
        .collect();
    let base = &inner.base_url;
    // jsm.v3.json `PagedDTOUserDTO`: size, start, limit, isLastPage, values, _links.
    Reply::json(
        200,
        json!({
            "size": values.len(),
            "start": start,
            "limit": limit,
            "isLastPage": start + values.len() >= members.len(),
            "values": values,
            "_links": {
                "base": base,
                "context": "",
                "self": format!("{base}/rest/servicedeskapi/servicedesk/{desk}/customer"),
            },
        }),
    )
}

/// `GET /rest/api/3/myself`.
pub(crate) fn myself(state: &SimState, req: &JsmRequest<'_>) -> Reply {
    Reply::json(200, req.caller.myself(&state.base_url()))
}

/// The global permissions `mypermissions` knows: (key, id, name, description).
const GLOBAL_PERMISSIONS: &[(&str, &str, &str, &str)] = &[
    (
        "ADMINISTER",
        "0",
        "Administer Jira",
        "Create and administer projects, issue types, fields, workflows, and schemes for all projects. Users with this permission can perform most administration tasks, except: managing users, importing data, and editing system email settings.",
    ),
    (
        "USER_PICKER",
        "27",
        "Browse users and groups",
        "View and select users or groups from the user picker, and share issues. Users with this permission can see the names of all users and groups on your site.",
    ),
];

/// `GET /rest/api/3/mypermissions?permissions=ADMINISTER,USER_PICKER`.
pub(crate) fn my_permissions(state: &SimState, req: &JsmRequest<'_>) -> Reply {
    let asked = query_param(req.query, "permissions").unwrap_or_default();
    let keys: Vec<&str> = asked
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    if keys.is_empty() {
        return Reply::platform_error(
            400,
            &req.lang.pick(
                "The 'permissions' query parameter is required.",
                "Der Abfrageparameter 'permissions' ist erforderlich.",
            ),
        );
    }
    let granted = state.lock().facts.permissions_of(&req.caller.key());
    let mut permissions = Map::new();
    for key in keys {
        let Some((key, id, name, description)) =
            GLOBAL_PERMISSIONS.iter().find(|(k, ..)| *k == key)
        else {
            return Reply::platform_error(
                400,
                &req.lang.pick(
                    format!("Invalid permission key: {key}"),
                    format!("Ungültiger Berechtigungsschlüssel: {key}"),
                ),
            );
        };
        let have = match *key {
            "ADMINISTER" => granted.administer,
            _ => granted.user_picker,
        };
        permissions.insert(
            key.to_string(),
            json!({
                "id": id, "key": key, "name": name, "type": "GLOBAL",
                "description": description, "havePermission": have,
            }),
        );
    }
    Reply::json(200, json!({ "permissions": permissions }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_matches_prefixes_not_substrings() {
        let c = SimCustomer {
            account_id: "a".into(),
            email_address: "Alfred@Example.com".into(),
            display_name: "Alfred E. Neuman".into(),
            active: true,
            account_type: "customer".into(),
            email_visible: true,
            service_desks: vec![],
            organizations: vec![],
        };
        for (needle, prefix, substring) in [
            ("alfred@", true, true),
            ("fred@", false, true),
            ("neu", true, true),
            ("euman", false, true),
            ("alfred e", true, true),
        ] {
            assert_eq!(matches(&c, needle, false), prefix, "{needle}");
            assert_eq!(matches(&c, needle, true), substring, "{needle}");
        }
    }
}
