//! Service desks and organizations, as jsm.v3.json publishes them:
//!
//! - `POST /rest/servicedeskapi/servicedesk/{serviceDeskId}/customer` (`addCustomers`) and
//!   `POST /rest/servicedeskapi/organization/{organizationId}/user` (`addUsersToOrganization`,
//!   an int32 path id), body `{"accountIds": [...]}`: 204, also when the account is already a
//!   member; 404 when the desk or organization does not exist (or the caller cannot see it);
//!   400 for an unknown account id; 403 without permission (the desk's admin; for an
//!   organization its desk admin or agent).
//! - `GET /rest/servicedeskapi/servicedesk/{id}` (`getServiceDeskById`): `ServiceDeskDTO`
//!   (id, projectId, projectName, projectKey, _links); `GET
//!   /rest/servicedeskapi/organization/{id}` (`getOrganization`): `OrganizationDTO` (id,
//!   name, _links). Both 404 for an unknown id.
//!
//! Which ids exist is the `serviceDesks` / `organizations` switch (default: every id).

use super::reply::{Lang, Reply};
use super::routes::{JsmRequest, forbidden, is_json};
use super::state::SimState;
use serde::Deserialize;
use serde_json::json;

/// 404 for a desk that does not exist or cannot be seen.
pub(crate) fn desk_not_found(lang: Lang, id: &str) -> Reply {
    Reply::jsm_error(
        404,
        &lang.pick(
            format!(
                "Service Desk with id {id} does not exist or you do not have permission to see it."
            ),
            format!(
                "Der Service Desk mit der ID {id} existiert nicht oder Sie dürfen ihn nicht sehen."
            ),
        ),
        "sd.public.api.error.servicedesk.not.found",
        &[id],
    )
}

fn organization_not_found(lang: Lang, id: &str) -> Reply {
    Reply::jsm_error(
        404,
        &lang.pick(
            format!(
                "Organization with id {id} does not exist or you do not have permission to see it."
            ),
            format!(
                "Die Organisation mit der ID {id} existiert nicht oder Sie dürfen sie nicht sehen."
            ),
        ),
        "sd.public.api.error.organization.not.found",
        &[id],
    )
}

/// A desk's project id and key, made up from its id (or taken as the key when it is one).
fn project_of(id: &str) -> (String, String) {
    match id.parse::<u64>() {
        Ok(n) => ((10_000 + n).to_string(), format!("SD{n}")),
        Err(_) => ("10000".into(), id.to_uppercase()),
    }
}

/// `GET /rest/servicedeskapi/servicedesk/{id}`.
pub(crate) fn get_desk(state: &SimState, req: &JsmRequest<'_>, id: &str) -> Reply {
    let inner = state.lock();
    if !inner.facts.desk_exists(id) {
        return desk_not_found(req.lang, id);
    }
    let (project_id, project_key) = project_of(id);
    let desk_id = id
        .parse::<u64>()
        .map_or_else(|_| "1".to_string(), |n| n.to_string());
    Reply::json(
        200,
        json!({
            "id": desk_id,
            "projectId": project_id,
            "projectName": format!("Service desk {id}"),
            "projectKey": project_key,
            "_links": {"self": format!("{}/rest/servicedeskapi/servicedesk/{desk_id}", inner.base_url)},
        }),
    )
}

/// `GET /rest/servicedeskapi/organization/{id}`.
pub(crate) fn get_organization(state: &SimState, req: &JsmRequest<'_>, id: &str) -> Reply {
    let inner = state.lock();
    if !inner.facts.organization_exists(id) {
        return organization_not_found(req.lang, id);
    }
    Reply::json(
        200,
        json!({
            "id": id,
            "name": format!("Organization {id}"),
            "_links": {"self": format!("{}/rest/servicedeskapi/organization/{id}", inner.base_url)},
        }),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MembersBody {
    #[serde(default)]
    account_ids: Vec<String>,
}

/// `POST .../servicedesk/{id}/customer` or `.../organization/{id}/user`.
pub(crate) fn add_members(
    state: &SimState,
    req: &JsmRequest<'_>,
    id: &str,
    organization: bool,
) -> Reply {
    if !is_json(req.content_type) {
        return Reply::empty(415);
    }
    let lang = req.lang;
    let mut inner = state.lock();
    match organization {
        true if !inner.facts.organization_exists(id) => return organization_not_found(lang, id),
        false if !inner.facts.desk_exists(id) => return desk_not_found(lang, id),
        _ => {}
    }
    if !inner.facts.permissions_of(&req.caller.key()).desk_admin {
        return forbidden(lang);
    }
    let body = match serde_json::from_slice::<MembersBody>(req.body) {
        Ok(body) if !body.account_ids.is_empty() => body,
        _ => {
            return Reply::jsm_error(
                400,
                &lang.pick(
                    "You must provide at least one accountId.",
                    "Sie müssen mindestens eine accountId angeben.",
                ),
                "sd.public.api.error.account.ids.required",
                &[],
            );
        }
    };
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
            &lang.pick(
                format!("The following users do not exist: {list}"),
                format!("Die folgenden Benutzer existieren nicht: {list}"),
            ),
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
