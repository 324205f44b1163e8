//! `GET /rest/api/3/search/jql` (Jira platform swagger v3, "Search for issues using JQL
//! enhanced search"), over the simulator's customer requests. Published facts modelled:
//! parameters `jql`, `fields` (default: the issue id only; `*all` and `*navigable` for every
//! field), `maxResults` and `nextPageToken`; the answer `{"issues": [...], "isLast"}` with a
//! `nextPageToken` while more pages remain; a JQL error is 400 with the platform error shape
//! `{"errorMessages": [...], "errors": {}}`; v3 gives `description` in Atlassian Document
//! Format; a JSM issue shows its customer request type in a custom field as
//! `{"requestType": {"id", ...}}`.
//!
//! Only the JQL the bridge sends is understood, `reporter = "<accountId>" AND description ~
//! "<words>"` (every word must be a word of the description, any case); anything else is
//! refused with 400. Search results are current (real JSM's index lags behind writes).

use serde_json::{Value, json};

use super::issues::{SimIssue, project_key};
use super::reply::Reply;
use super::routes::{JsmRequest, query_param};
use super::state::SimState;

/// The custom field the simulator's request type shows in (site-specific on JSM).
const REQUEST_TYPE_FIELD: &str = "customfield_10010";

fn jql_error(message: &str) -> Reply {
    Reply::json(400, json!({"errorMessages": [message], "errors": {}}))
}

/// The reporter and the words of `reporter = "<id>" AND description ~ "<words>"`.
pub(crate) fn parse_jql(jql: &str) -> Option<(String, Vec<String>)> {
    let rest = jql.trim().strip_prefix("reporter")?.trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let (reporter, rest) = quoted(rest)?;
    let rest = rest.trim_start();
    let (and, rest) = rest.split_at_checked(3)?;
    if !and.eq_ignore_ascii_case("AND") {
        return None;
    }
    let rest = rest.trim_start().strip_prefix("description")?.trim_start();
    let rest = rest.strip_prefix('~')?.trim_start();
    let (text, rest) = quoted(rest)?;
    let words = words_of(&text);
    (rest.trim().is_empty() && !words.is_empty()).then_some((reporter, words))
}

/// A `"…"` string with `\"` and `\\` escapes; the string and what follows it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut chars = text.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &text[i + 2..])),
            c => out.push(c),
        }
    }
    None
}

/// Lowercased runs of letters and digits.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// `GET /rest/api/3/search/jql`.
pub(crate) fn search(state: &SimState, req: &JsmRequest<'_>) -> Reply {
    let Some(jql) = query_param(req.query, "jql") else {
        return jql_error("The 'jql' parameter is required (an unbounded query is not allowed).");
    };
    let Some((reporter, words)) = parse_jql(&jql) else {
        return jql_error(&format!(
            "The simulator understands only: reporter = \"<accountId>\" AND description ~ \
             \"<words>\" (got {jql:?})."
        ));
    };
    let max = query_param(req.query, "maxResults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 5_000);
    let start = match query_param(req.query, "nextPageToken") {
        None => 0,
        Some(token) => match token.strip_prefix("sim-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return jql_error("The nextPageToken is not valid."),
        },
    };
    let fields = query_param(req.query, "fields").unwrap_or_else(|| "id".into());
    let inner = state.lock();
    let matching: Vec<&SimIssue> = inner
        .issues
        .iter()
        .filter(|i| i.reporter == reporter)
        .filter(|i| {
            let have = words_of(&i.description);
            words.iter().all(|w| have.contains(w))
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max)
        .map(|i| issue_json(i, &fields, &inner.base_url))
        .collect();
    let next = start + page.len();
    let mut body = json!({"issues": page, "isLast": next >= matching.len()});
    if next < matching.len() {
        body["nextPageToken"] = json!(format!("sim-{next}"));
    }
    Reply::json(200, body)
}

fn issue_json(issue: &SimIssue, fields: &str, base: &str) -> Value {
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    let all = wanted.iter().any(|f| *f == "*all" || *f == "*navigable");
    let adf = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph",
        "content": [{"type": "text", "text": issue.description}]}]});
    let every = [
        ("summary", json!(issue.summary)),
        ("description", adf),
        (
            "reporter",
            json!({"accountId": issue.reporter, "accountType": "customer"}),
        ),
        (
            "project",
            json!({"key": project_key(&issue.service_desk_id)}),
        ),
        (
            REQUEST_TYPE_FIELD,
            json!({"requestType": {"id": issue.request_type_id,
                "serviceDeskId": issue.service_desk_id}}),
        ),
    ];
    let chosen: serde_json::Map<String, Value> = every
        .into_iter()
        .filter(|(name, _)| all || wanted.contains(name))
        .map(|(name, value)| (name.to_string(), value))
        .collect();
    json!({
        "id": issue.issue_id,
        "key": issue.issue_key,
        "self": format!("{base}/rest/api/3/issue/{}", issue.issue_id),
        "fields": chosen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bridges_jql_is_understood() {
        let ok = parse_jql(r#"reporter = "qm:a\"b" AND description ~ "sbw12ab""#);
        assert_eq!(ok, Some(("qm:a\"b".into(), vec!["sbw12ab".into()])));
        let loose = parse_jql(r#"  reporter="x"  and description~"Hello World"  "#);
        assert_eq!(
            loose,
            Some(("x".into(), vec!["hello".into(), "world".into()]))
        );
        for refused in [
            r#"project = SD"#,
            r#"reporter = "x""#,
            r#"reporter = "x" OR description ~ "y""#,
            r#"reporter = "x" AND description ~ "y" ORDER BY created"#,
            r#"reporter = "x" AND summary ~ "y""#,
            r#"reporter = "x" AND description ~ "--""#,
            r#"reporter = "x AND description ~ "y""#,
        ] {
            assert_eq!(parse_jql(refused), None, "{refused}");
        }
    }
}
