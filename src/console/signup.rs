//! One signup: every field, its steps, its failed delivery runs as the store records them (each
//! run's time, category and masked detail), the next attempt; Retry (the function
//! `signups retry ID` uses) and Reveal email (audited, shown in that one answer only).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Refusal;
use super::guard::check_post;
use super::login::CsrfForm;
use super::refusal::see_other;
use super::render::{Chrome, html};
use super::session::{Operator, state_of};
use super::time::{relative, show};
use crate::domain::{Signup, SignupStatus, mask_email, mask_emails_in};
use crate::store::{AttemptRecord, AuditAction, RetryOutcome};

/// The latest failed runs a signup page lists.
const RUNS_SHOWN: u32 = 50;

#[derive(Template)]
#[template(path = "console/signup.html")]
struct SignupPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    id: String,
    status: &'static str,
    fields: Vec<(&'static str, String)>,
    steps: Vec<(String, &'static str)>,
    next_attempt: Option<String>,
    /// (run, ended, outcome, lastError, masked detail) of each recorded failed run.
    runs: Vec<(i64, String, String, String, String)>,
    can_retry: bool,
    revealed: bool,
    erased: bool,
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    done: String,
}

pub async fn page(
    req: HttpRequest,
    operator: Operator,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    let signup = found(state.store.signup(&id).await?, &id)?;
    let notice = match query.done.as_str() {
        "requeued" => Some("Re-queued: the worker picks it up within a second or two."),
        "due" => Some("It was pending; it is due now."),
        "in_flight" => Some("It is being delivered right now; its run decides what comes next."),
        "already_done" => Some("It is already delivered (or erased); nothing to retry."),
        "erased" => Some("Erased: every signup of this email lost its email, names and profile."),
        _ => None,
    };
    let runs = state.store.signup_attempts(&signup.id, RUNS_SHOWN).await?;
    render(&operator, &signup, &runs, notice, false)
}

/// POST …/retry: re-queue a failed signup or make a pending one due now.
pub async fn retry(
    req: HttpRequest,
    operator: Operator,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    check_post(&req, &state, &operator, &form.csrf)?;
    let outcome = state
        .store
        .retry_signup(&id, state.config.delivery.max_attempts)
        .await?;
    let done = match outcome {
        RetryOutcome::NotFound => return Err(Refusal::NotFound(format!("no signup {id:?}"))),
        RetryOutcome::Requeued => "requeued",
        RetryOutcome::MadeDue => "due",
        RetryOutcome::InFlight => "in_flight",
        RetryOutcome::AlreadyDone => "already_done",
    };
    state
        .store
        .audit(
            &operator.who,
            AuditAction::Retry,
            &[id.to_string()],
            Some(done),
        )
        .await?;
    state.engine.wake();
    Ok(see_other(&format!(
        "/console/signups/{}?done={done}",
        url_segment(&id)
    )))
}

/// POST …/reveal: the page with the email unmasked, once, after the audit entry is written.
pub async fn reveal(
    req: HttpRequest,
    operator: Operator,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, Refusal> {
    let state = state_of(&req)?;
    check_post(&req, &state, &operator, &form.csrf)?;
    let signup = found(state.store.signup(&id).await?, &id)?;
    state
        .store
        .audit(&operator.who, AuditAction::Reveal, &[id.to_string()], None)
        .await?;
    let runs = state.store.signup_attempts(&signup.id, RUNS_SHOWN).await?;
    render(&operator, &signup, &runs, None, true)
}

fn found(signup: Option<Signup>, id: &str) -> Result<Signup, Refusal> {
    signup.ok_or_else(|| Refusal::NotFound(format!("no signup {id:?}")))
}

fn render(
    operator: &Operator,
    s: &Signup,
    runs: &[AttemptRecord],
    notice: Option<&'static str>,
    revealed: bool,
) -> Result<HttpResponse, Refusal> {
    let email = if revealed {
        s.email.clone()
    } else {
        mask_email(&s.email)
    };
    let customer = s.view().customer.map(|c| {
        let text = serde_json::to_string_pretty(&c).unwrap_or_default();
        if revealed {
            text
        } else {
            mask_emails_in(&text)
        }
    });
    let fields = vec![
        ("Id", s.id.clone()),
        ("Status", s.status.as_str().to_string()),
        ("Tenant", s.tenant.clone()),
        ("Source", s.source_id.clone()),
        ("Idempotency key", s.idempotency_key.clone()),
        ("Email", email),
        ("Display name", s.display_name.clone()),
        (
            "Customer",
            customer.unwrap_or_else(|| "not known yet".into()),
        ),
        (
            "Delivery runs",
            format!("{} of {} allowed", s.attempts, s.attempt_limit),
        ),
        (
            "Last error",
            s.last_error.clone().unwrap_or_else(|| "none".into()),
        ),
        (
            "Last error detail",
            s.last_error_detail.clone().unwrap_or_else(|| "none".into()),
        ),
        ("Created", show(s.created_at)),
        (
            "Updated",
            format!("{} ({})", show(s.updated_at), relative(s.updated_at)),
        ),
    ];
    let page = SignupPage {
        chrome: Chrome::page(format!("Signup {}", s.id), "signups", operator),
        notice,
        id: s.id.clone(),
        status: s.status.as_str(),
        fields,
        steps: s
            .steps
            .iter()
            .map(|st| (st.name.clone(), st.state.as_str()))
            .collect(),
        next_attempt: (s.status == SignupStatus::Pending).then(|| {
            format!(
                "{} ({})",
                show(s.next_attempt_at),
                relative(s.next_attempt_at)
            )
        }),
        runs: runs
            .iter()
            .map(|r| {
                let at = show(r.at);
                (
                    r.run,
                    at,
                    r.outcome.clone(),
                    r.error.clone(),
                    r.detail.clone(),
                )
            })
            .collect(),
        can_retry: matches!(s.status, SignupStatus::Failed | SignupStatus::Pending)
            && !s.is_erased(),
        revealed,
        erased: s.is_erased(),
    };
    html(StatusCode::OK, &page)
}

/// What a path segment must escape.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// An id as one path segment (ids are UUIDs; anything else is escaped anyway).
pub(super) fn url_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}
