//! Erase from the signup page: a confirmation page that counts what it takes, then a POST
//! (CSRF-checked like Retry) through the store function `signups erase` uses, which writes the
//! audit entry under the operator's label.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::Refusal;
use super::guard::check_post;
use super::login::CsrfForm;
use super::refusal::see_other;
use super::render::{Chrome, html};
use super::session::{Operator, state_of};
use super::signup::url_segment;
use crate::store::EraseTarget;

#[derive(Template)]
#[template(path = "console/erase.html")]
struct ErasePage {
    chrome: Chrome,
    id: String,
    count: usize,
}

/// GET …/erase: how many signups the erase takes; nothing changes yet.
pub async fn confirm(
    req: HttpRequest,
    operator: Operator,
    id: web::Path<String>,
) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    if state.store.signup(&id).await?.is_none() {
        return Err(Refusal::NotFound(format!("no signup {id:?}")));
    }
    let count = state
        .store
        .erasable(&EraseTarget::Id(id.to_string()))
        .await?
        .len();
    let page = ErasePage {
        chrome: Chrome::page("Erase", "signups", &operator),
        id: id.into_inner(),
        count,
    };
    html(StatusCode::OK, &page)
}

/// POST …/erase: erase every signup of this signup's email.
pub async fn erase(
    req: HttpRequest,
    operator: Operator,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    check_post(&req, &state, &operator, &form.csrf)?;
    if state.store.signup(&id).await?.is_none() {
        return Err(Refusal::NotFound(format!("no signup {id:?}")));
    }
    state
        .store
        .erase(&EraseTarget::Id(id.to_string()), &operator.who)
        .await?;
    Ok(see_other(&format!(
        "/console/signups/{}?done=erased",
        url_segment(&id)
    )))
}
