//! Finding the existing customer after JSM said its email is taken (SPEC §17 rule 2): the
//! user search, then — only when it found no readable account and the signup has a desk — that
//! desk's customer search (experimental), each answer judged by `response::pick_exact`.

use reqwest::Method;
use serde_json::Value;

use super::client::{Answer, segment};
use super::response::{Lookup, classify, error_message, pick_exact};
use super::{JsmCall, JsmClient, JsmError, JsmTarget};

impl JsmClient {
    /// Look for the account whose readable email is exactly `email` (case-insensitive): the
    /// user search (active users, prefix matches, emails possibly hidden, empty without
    /// *Browse users and groups*), then — when `desk` is given and the user search found no
    /// such account — that desk's customer search. A 403 or 404 of the desk search leaves
    /// the user search's answer standing (the desk step reports them).
    pub async fn find_customer(
        &self,
        target: &JsmTarget,
        email: &str,
        desk: Option<&str>,
    ) -> Result<Lookup, JsmError> {
        let query = [("query", email)];
        let path = "/rest/api/3/user/search";
        let users: Vec<Value> = self
            .get_json(target, path, &query, JsmCall::UserSearch)
            .await?;
        let by_search = pick_exact(users, email);
        let Some(desk) = desk.filter(|_| !matches!(by_search, Lookup::Found(_))) else {
            return Ok(by_search);
        };
        let path = format!(
            "/rest/servicedeskapi/servicedesk/{}/customer",
            segment(desk)
        );
        let page: Result<Value, JsmError> = self
            .get_json(target, &path, &query, JsmCall::DeskSearch(desk))
            .await;
        let by_desk = match page {
            Ok(page) => {
                let values = page.get("values").and_then(Value::as_array).cloned();
                pick_exact(values.unwrap_or_default(), email)
            }
            Err(
                JsmError::PermissionDenied(_)
                | JsmError::PermissionMissing(_)
                | JsmError::NotFound(_),
            ) => Lookup::Empty,
            Err(e) => return Err(e),
        };
        Ok(match (by_search, by_desk) {
            (_, found @ Lookup::Found(_)) => found,
            (Lookup::Unreadable { hidden: a }, Lookup::Unreadable { hidden: b }) => {
                Lookup::Unreadable { hidden: a + b }
            }
            (unreadable @ Lookup::Unreadable { .. }, _)
            | (_, unreadable @ Lookup::Unreadable { .. }) => unreadable,
            _ => Lookup::Empty,
        })
    }

    /// A GET whose 2xx body is JSON of type `T`.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        target: &JsmTarget,
        path: &str,
        query: &[(&str, &str)],
        call: JsmCall<'_>,
    ) -> Result<T, JsmError> {
        match self
            .send(target, call, Method::GET, path, query, None)
            .await?
        {
            Answer::Ok(body) => {
                serde_json::from_slice(&body).map_err(|e| JsmError::InvalidResponse(e.to_string()))
            }
            Answer::Status(status, headers, body) => {
                Err(call.name(classify(status, &headers, error_message(&body))))
            }
        }
    }
}
