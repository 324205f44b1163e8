//! The welcome request (SPEC §20): `POST /rest/servicedeskapi/request` raised on the customer's
//! behalf, and the JQL search that looks for one whose answer was lost (docs/DECISIONS.md).
//!
//! The search cannot name the request type by id (JQL's "Request Type" field takes names or
//! `portalKey/requestTypeKey`), so it asks for the reporter and the signup's marker word in the
//! description, then checks each hit itself: same reporter, the marker in the description, and
//! — where the issue shows its customer request type — the same request type id.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::Answer;
use super::response::{classify, error_message};
use super::{JsmCall, JsmClient, JsmError, JsmTarget};

/// One welcome request to raise or find.
#[derive(Debug, Clone, Copy)]
pub struct WelcomeCall<'a> {
    pub service_desk: &'a str,
    pub request_type: &'a str,
    /// The customer it is raised for (`raiseOnBehalfOf`, the reporter).
    pub account_id: &'a str,
    /// The word that identifies this signup's request (see [`welcome_marker`]).
    pub marker: &'a str,
}

/// The signup's marker: `sbw` and the signup id's letters and digits, one word. One word
/// because JQL's `~` matches words of the analysed text: a hyphen or other punctuation would
/// split it into several words (each matching on its own, a leading `-` even read as NOT), so
/// only letters and digits, which the analyser keeps as one term, stemmed alike on both sides.
pub fn welcome_marker(signup_id: &str) -> String {
    let word: String = signup_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    format!("sbw{word}")
}

/// The description as sent: the configured text, then the marker on its own line.
pub fn with_marker(description: &str, marker: &str) -> String {
    match description.trim_end() {
        "" => format!("Reference: {marker}"),
        text => format!("{text}\n\nReference: {marker}"),
    }
}

/// The JQL of the search: the reporter and the marker word in the description.
pub fn welcome_jql(account_id: &str, marker: &str) -> String {
    let quoted = account_id.replace('\\', "\\\\").replace('"', "\\\"");
    format!("reporter = \"{quoted}\" AND description ~ \"{marker}\"")
}

impl JsmClient {
    /// `POST /rest/servicedeskapi/request` with `raiseOnBehalfOf`; the created request.
    pub async fn create_request(
        &self,
        target: &JsmTarget,
        call: WelcomeCall<'_>,
        summary: &str,
        description: &str,
    ) -> Result<Value, JsmError> {
        let body = json!({
            "serviceDeskId": call.service_desk,
            "requestTypeId": call.request_type,
            "raiseOnBehalfOf": call.account_id,
            "requestFieldValues": {
                "summary": summary,
                "description": with_marker(description, call.marker),
            },
        });
        let named = JsmCall::RequestCreate(call.service_desk, call.request_type);
        let path = "/rest/servicedeskapi/request";
        match self
            .send(target, named, Method::POST, path, &[], Some(body))
            .await?
        {
            Answer::Ok(body) => {
                serde_json::from_slice(&body).map_err(|e| JsmError::InvalidResponse(e.to_string()))
            }
            Answer::Status(status, headers, body) => {
                Err(named.name(classify(status, &headers, error_message(&body))))
            }
        }
    }

    /// `GET /rest/api/3/search/jql`: the issue key of this signup's welcome request, if the
    /// search shows one. The search lags behind writes (seconds, at times minutes).
    pub async fn find_request(
        &self,
        target: &JsmTarget,
        call: WelcomeCall<'_>,
    ) -> Result<Option<String>, JsmError> {
        let jql = welcome_jql(call.account_id, call.marker);
        let query = [
            ("jql", jql.as_str()),
            ("fields", "*all"),
            ("maxResults", "10"),
        ];
        let named = JsmCall::IssueSearch(call.service_desk);
        let path = "/rest/api/3/search/jql";
        let page: Value = match self
            .send(target, named, Method::GET, path, &query, None)
            .await?
        {
            Answer::Ok(body) => serde_json::from_slice(&body)
                .map_err(|e| JsmError::InvalidResponse(e.to_string()))?,
            Answer::Status(status, headers, body) => {
                return Err(named.name(classify(status, &headers, error_message(&body))));
            }
        };
        let issues = page.get("issues").and_then(Value::as_array);
        Ok(issues
            .into_iter()
            .flatten()
            .find(|issue| is_the_request(issue, &call))
            .map(|issue| {
                let key = issue.get("key").or_else(|| issue.get("id"));
                key.and_then(Value::as_str).unwrap_or("?").to_string()
            }))
    }
}

/// Whether a search hit is this signup's welcome request: its reporter, the marker in its
/// description (plain text or Atlassian Document Format), and no other request type.
fn is_the_request(issue: &Value, call: &WelcomeCall<'_>) -> bool {
    let Some(fields) = issue.get("fields").and_then(Value::as_object) else {
        return false;
    };
    let reporter = fields
        .get("reporter")
        .and_then(|r| r.get("accountId"))
        .and_then(Value::as_str);
    if reporter.is_some_and(|r| r != call.account_id) {
        return false;
    }
    let description = match fields.get("description") {
        Some(Value::String(text)) => text.clone(),
        Some(doc) => doc.to_string(),
        None => return false,
    };
    if !description.to_lowercase().contains(call.marker) {
        return false;
    }
    // JSM's "Customer Request Type" field (its id differs by site): `{"requestType": {"id"}}`.
    let other_type = fields.values().any(|v| {
        v.get("requestType")
            .and_then(|t| t.get("id"))
            .and_then(|id| {
                id.as_str()
                    .map(str::to_string)
                    .or(id.as_u64().map(|n| n.to_string()))
            })
            .is_some_and(|id| id != call.request_type)
    });
    !other_type
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALL: WelcomeCall<'static> = WelcomeCall {
        service_desk: "10",
        request_type: "5",
        account_id: "qm:1",
        marker: "sbw0190abc",
    };

    #[test]
    fn the_marker_is_one_word_of_the_signup_id() {
        let marker = welcome_marker("0190ABCD-1234-7abc-8def-0123456789ab");
        assert_eq!(marker, "sbw0190abcd12347abc8def0123456789ab");
        assert!(marker.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(with_marker("", "sbw1"), "Reference: sbw1");
        assert_eq!(with_marker("Hi\n", "sbw1"), "Hi\n\nReference: sbw1");
        assert_eq!(
            welcome_jql("qm:a\"b", "sbw1"),
            r#"reporter = "qm:a\"b" AND description ~ "sbw1""#
        );
    }

    #[test]
    fn only_a_hit_with_the_reporter_marker_and_request_type_counts() {
        let adf = |text: &str| {
            json!({"type": "doc", "version": 1, "content": [{"type": "paragraph",
                "content": [{"type": "text", "text": text}]}]})
        };
        let issue = |reporter: &str, description: Value, rtype: &str| {
            json!({"key": "SD-1", "fields": {
                "reporter": {"accountId": reporter},
                "description": description,
                "customfield_10010": {"requestType": {"id": rtype}},
            }})
        };
        let cases = [
            (issue("qm:1", adf("Hi\n\nReference: sbw0190abc"), "5"), true),
            (issue("qm:1", json!("Reference: SBW0190ABC"), "5"), true),
            (issue("qm:2", adf("Reference: sbw0190abc"), "5"), false),
            (issue("qm:1", adf("Reference: sbw0190abd"), "5"), false),
            (issue("qm:1", adf("Reference: sbw0190abc"), "6"), false),
            (json!({"key": "SD-1"}), false),
        ];
        for (issue, want) in cases {
            assert_eq!(is_the_request(&issue, &CALL), want, "{issue}");
        }
    }
}
