//! Page rendering: the frame every page shares and the HTML answer.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::Refusal;
use super::session::Operator;

/// What the shared frame (`templates/console/base.html`) shows: the title, the navigation
/// with the current page marked, and the signed-in operator with the logout form.
pub struct Chrome {
    pub title: String,
    /// The navigation entry of this page (`overview`, `signups`, …).
    pub current: &'static str,
    /// The operator, on pages behind sign-in.
    pub who: Option<String>,
    pub csrf: String,
}

impl Chrome {
    pub fn page(title: impl Into<String>, current: &'static str, operator: &Operator) -> Self {
        Self {
            title: title.into(),
            current,
            who: Some(operator.who.clone()),
            csrf: operator.csrf.clone(),
        }
    }

    pub fn signed_out(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            current: "",
            who: None,
            csrf: String::new(),
        }
    }
}

/// The navigation: (entry, path, label).
pub const NAV: [(&str, &str, &str); 6] = [
    ("overview", "/console/", "Overview"),
    ("signups", "/console/signups", "Signups"),
    ("bulk", "/console/bulk-retry", "Bulk retry"),
    ("installations", "/console/installations", "Installations"),
    ("sources", "/console/sources", "Sources"),
    ("audit", "/console/audit", "Audit log"),
];

/// A rendered page with `status`.
pub fn html<T: Template>(status: StatusCode, page: &T) -> Result<HttpResponse, Refusal> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// A short page saying what happened (a result or a refusal a person should read).
#[derive(Template)]
#[template(path = "console/message.html")]
pub struct Message {
    pub chrome: Chrome,
    pub heading: String,
    pub text: String,
    /// (path, label) of the link onwards.
    pub next: (String, String),
}

/// One navigation entry as the frame shows it.
pub struct NavItem {
    pub path: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Chrome {
    pub fn nav(&self) -> Vec<NavItem> {
        NAV.iter()
            .map(|(entry, path, label)| NavItem {
                path,
                label,
                current: *entry == self.current,
            })
            .collect()
    }
}
