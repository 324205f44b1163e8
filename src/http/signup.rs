//! `POST /webhooks/signup`: check, record, wake the worker, answer with the signup.
//!
//! Checks run in the order docs/API.md gives: 415 media type, 413 size, 401 token, 429 source rate limit,
//! 400 payload, 400 key, 422 email domain,
//! then 503 `overloaded` (`http::admission`), idempotency (409/422) and 503 tenant. The signup
//! is committed before any answer that accepts it; the handler never calls JSM itself.

use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use tracing::Instrument;

use super::AppState;
use super::request::{authenticate, body_format, bounded, read_body};
use crate::auth::VerifiedToken;
use crate::config::SourceConfig;
use crate::delivery::Subscription;
use crate::domain::{IdempotencyKey, NewSignup, Signup, SignupStatus, fingerprint, now_ms};
use crate::error::ApiError;
use crate::store::{InsertOutcome, JtiUse, NewSignupRecord};

pub async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut source_label = None;
    let result = bounded(&state, intake(&req, payload, &state, &mut source_label)).await;
    counted(source_label.as_deref().unwrap_or("unknown"), result)
}

/// Count an intake answer under its source (`rejected` for an error), then hand it out.
pub(super) fn counted(
    source: &str,
    result: Result<(HttpResponse, Signup), ApiError>,
) -> Result<HttpResponse, ApiError> {
    let status = match &result {
        Ok((_, signup)) => signup.status.as_str(),
        Err(_) => "rejected",
    };
    crate::metrics::signup_answered(source, status);
    if let Err(e) = &result {
        crate::console::rejections().record(source, e.code());
    }
    result.map(|(response, _)| response)
}

/// The intake proper; `source_label` is set once the token names a known source.
async fn intake(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    source_label: &mut Option<String>,
) -> Result<(HttpResponse, Signup), ApiError> {
    let req = req.clone();
    let format = body_format(&req)?;
    let body = read_body(&req, payload, state.config.server.max_body_bytes).await?;
    let token = authenticate(&req, state).await?;
    let source = state
        .config
        .source(&token.source_id)
        .ok_or_else(|| ApiError::InvalidToken("the token's issuer is not a known source".into()))?;
    *source_label = Some(source.id.clone());
    state.spend_rate_limit(&token.source_id)?;
    let signup = NewSignup::parse(&body, format).map_err(ApiError::InvalidPayload)?;
    let print = fingerprint(
        &signup.email.normalized(),
        signup.display_name.as_str(),
        &source.tenant,
    );
    let key = idempotency_key(&req, token.jti.as_deref(), &print)?;
    accept(state, source, &signup, print, key, Some(&token)).await
}

/// The intake steps after the checks, shared by every route: admission (503 `overloaded`), the
/// `jti` binding, idempotency (409/422), the tenant (503), the committed signup, the inline
/// wait and the answer.
pub(super) async fn accept(
    state: &AppState,
    source: &SourceConfig,
    signup: &NewSignup,
    print: String,
    key: IdempotencyKey,
    token: Option<&VerifiedToken>,
) -> Result<(HttpResponse, Signup), ApiError> {
    super::email_policy::check(source, &signup.email)?;
    // A replay that memory alone answers takes no intake permit: it stores nothing and costs
    // microseconds. A token's `jti` needs a read of its binding, so it goes through admission.
    let jti = token.and_then(|t| t.jti.as_ref());
    if jti.is_none()
        && let Some(finished) = state.finished.get(&source.id, key.as_str())
    {
        return replay(state, finished, &print, None).await;
    }
    // Held until the signup is committed; dropped with any other answer.
    let permit = state.admission.admit(&source.id)?;
    let unbound_jti = match token {
        Some(token) => unbound_jti(state, &source.id, token, &key).await?,
        None => None,
    };

    if let Some(finished) = state.finished.get(&source.id, key.as_str()) {
        return replay(state, finished, &print, unbound_jti).await;
    }
    // A token's first use may be a replay: look before binding its `jti` to a new signup.
    if unbound_jti.is_some()
        && let Some(existing) = state.store.find_by_key(&source.id, key.as_str()).await?
    {
        state.finished.remember(&existing);
        return replay(state, existing, &print, unbound_jti).await;
    }
    // Otherwise no read before the insert: a new key (the common case) costs the insert
    // alone, and a stored one is found by the insert's conflict and answered as a replay.
    // The guard is held until the signup is committed. A request that finds it taken reads
    // the key: a stored signup is answered with its state (so any number of concurrent replays
    // are all answered), one not committed yet with 409.
    let Some(guard) = state.in_progress.begin(&source.id, key.as_str()) else {
        return match state.store.find_by_key(&source.id, key.as_str()).await? {
            Some(existing) => {
                state.finished.remember(&existing);
                replay(state, existing, &print, unbound_jti).await
            }
            None => Err(ApiError::RequestInProgress),
        };
    };
    let tenant = match state.directory.resolve_for_source(source).await {
        Ok(tenant) => tenant,
        Err(e) => {
            // A signup recorded before the tenant went away is still answered with its state.
            if let Some(existing) = state.store.find_by_key(&source.id, key.as_str()).await? {
                return replay(state, existing, &print, None).await;
            }
            // Operators see why; the sender only that the tenant cannot take signups now.
            tracing::warn!(source = %source.id, reason = %e.0, "tenant unavailable");
            return Err(ApiError::TenantUnavailable(
                "the tenant of this source is unavailable".into(),
            ));
        }
    };
    let steps = tenant.steps_for(signup.email.as_str());
    // The intake span (see `http::middleware`) is current: its trace goes with the signup.
    let intake = tracing::Span::current();
    intake.record("signup_bridge.source", source.id.as_str());
    let record = NewSignupRecord {
        id: uuid::Uuid::now_v7().to_string(),
        source_id: source.id.clone(),
        idempotency_key: key.as_str().to_string(),
        fingerprint: print.clone(),
        tenant: tenant.id.clone(),
        email: signup.email.as_str().to_string(),
        display_name: signup.display_name.as_str().to_string(),
        steps,
        attempt_limit: state.config.delivery.max_attempts,
        not_before: state.engine.gate(&tenant.id).paused_until().map(|until| {
            now_ms()
                + until
                    .saturating_duration_since(tokio::time::Instant::now())
                    .as_millis() as i64
        }),
        jti: unbound_jti,
        trace_parent: crate::traces::traceparent_of(&intake),
    };
    intake.record("signup_bridge.signup_id", record.id.as_str());
    // A place among the inline waiters, and the events, taken before the insert so that no
    // outcome is missed; without a place the signup is answered as soon as it is committed.
    let waiter = match state.config.delivery.inline_wait.is_zero() {
        true => None,
        false => state.admission.wait_inline(),
    };
    let mut events = waiter.as_ref().map(|_| state.engine.events().subscribe());
    let commit = tracing::info_span!("commit", "db.operation.name" = "insert signup");
    let inserted = state
        .store
        .insert_signup(&record)
        .instrument(commit)
        .await?;
    drop((permit, guard));
    let signup = match inserted {
        InsertOutcome::Existing(existing) => {
            state.finished.remember(&existing);
            return replay(state, existing, &print, None).await;
        }
        InsertOutcome::Inserted(signup) => signup,
        InsertOutcome::JtiBoundElsewhere => return Err(jti_used_elsewhere()),
    };
    state.engine.signup_recorded(&signup.tenant);
    let current = match events.as_mut() {
        Some(events) => wait_inline(state, events, signup.clone()).await,
        None => {
            if !state.config.delivery.inline_wait.is_zero() {
                crate::metrics::inline_wait_skipped(&source.id);
            }
            signup
        }
    };
    drop(waiter);
    Ok((respond(&current, false), current))
}

/// How often an inline wait reads its signup again without having heard of a change.
const RECHECK: Duration = Duration::from_millis(500);

/// Wait for the worker's outcome up to `inline_wait`; the latest state seen. The signup is
/// committed already, so a read failing here answers 202 with what was committed. Called only
/// with a place among the inline waiters and a non-zero `inline_wait`.
async fn wait_inline(state: &AppState, events: &mut Subscription, signup: Signup) -> Signup {
    let gate = state.engine.gate(&signup.tenant);
    let backlog = state
        .store
        .due_count(&signup.tenant)
        .await
        .unwrap_or(0)
        .max(0) as u64;
    // Never hold the connection for a paused tenant or a backlog that cannot drain in time.
    if gate.drain_time(backlog) > state.config.delivery.inline_wait {
        return signup;
    }
    let deadline = tokio::time::Instant::now() + state.config.delivery.inline_wait;
    let id = signup.id.clone();
    let mut current = signup;
    while !current.status.is_final() && gate.paused_until().is_none() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        // An outcome another instance records arrives as a notification, which a listener
        // that is reconnecting can miss: the signup is read again at least every RECHECK.
        events.changed(&current.id, left.min(RECHECK)).await;
        match state.store.signup(&current.id).await {
            Ok(Some(latest)) => current = latest,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the signup back; answering 202");
                break;
            }
        }
    }
    // The worker may have moved on since the last event seen (a step done, a customer known):
    // answer with the state as it is now, not as it was when the wait began.
    if !current.status.is_final()
        && let Ok(Some(latest)) = state.store.signup(&id).await
    {
        current = latest;
    }
    current
}

/// The key: `Idempotency-Key` header, else the token's `jti`, else the fingerprint.
pub(super) fn idempotency_key(
    req: &HttpRequest,
    jti: Option<&str>,
    print: &str,
) -> Result<IdempotencyKey, ApiError> {
    if let Some(value) = req.headers().get("idempotency-key") {
        let raw = value.to_str().map_err(|_| {
            ApiError::InvalidIdempotencyKey("Idempotency-Key must be visible ASCII".into())
        })?;
        return IdempotencyKey::from_header(raw)
            .map_err(|e| ApiError::InvalidIdempotencyKey(format!("Idempotency-Key {e}")));
    }
    match jti {
        Some(jti) => IdempotencyKey::from_jti(jti).map_err(ApiError::InvalidIdempotencyKey),
        None => Ok(IdempotencyKey::from_fingerprint(print)),
    }
}

/// A token's `jti` that is not bound yet (to be bound with this signup); 401 when it is bound
/// to another key. A bound `jti` costs one read, never a write.
async fn unbound_jti(
    state: &AppState,
    source_id: &str,
    token: &VerifiedToken,
    key: &IdempotencyKey,
) -> Result<Option<JtiUse>, ApiError> {
    let Some(jti) = &token.jti else {
        return Ok(None);
    };
    match state.store.jti_binding(source_id, jti).await? {
        Some(bound) if bound == key.as_str() => Ok(None),
        Some(_) => Err(jti_used_elsewhere()),
        None => Ok(Some(JtiUse {
            jti: jti.clone(),
            expires_at: token.accepted_until,
        })),
    }
}

fn jti_used_elsewhere() -> ApiError {
    ApiError::InvalidToken(
        "the token's jti was already used for another signup; mint a new token for each signup"
            .into(),
    )
}

/// The stored signup for a repeated key: 422 when the payload differs; otherwise its current
/// state, after binding the token's `jti` to it when this is the token's first use.
async fn replay(
    state: &AppState,
    existing: Signup,
    print: &str,
    unbound_jti: Option<JtiUse>,
) -> Result<(HttpResponse, Signup), ApiError> {
    if existing.fingerprint != print {
        return Err(ApiError::IdempotencyKeyReused);
    }
    if let Some(jti) = unbound_jti {
        let bound = state
            .store
            .bind_jti(&existing.source_id, &jti, &existing.idempotency_key)
            .await?;
        if bound != existing.idempotency_key {
            return Err(jti_used_elsewhere());
        }
    }
    Ok((respond(&existing, true), existing))
}

/// The signup with the HTTP status of its current state.
pub fn respond(signup: &Signup, replayed: bool) -> HttpResponse {
    let status = match signup.status {
        SignupStatus::Created => StatusCode::CREATED,
        SignupStatus::Existing => StatusCode::OK,
        SignupStatus::Pending => StatusCode::ACCEPTED,
        SignupStatus::Failed => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut response = HttpResponse::build(status);
    if signup.status == SignupStatus::Pending {
        response.insert_header((header::LOCATION, format!("/signups/{}", signup.id)));
    }
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    response.json(signup.view())
}
