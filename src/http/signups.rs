//! `GET /signups/{id}`: a signup, for the source that sent it, within the source's rate limit.

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::request::authenticate;
use crate::error::ApiError;

pub async fn show(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = authenticate(&req, &state).await?;
    // The source's budget covers reads too (after auth, as for intake): polling is not free.
    state.spend_rate_limit(&token.source_id)?;
    let signup = state
        .store
        .signup(&id)
        .await?
        .filter(|s| s.source_id == token.source_id)
        .ok_or_else(|| ApiError::NotFound("no signup with this id for this source".into()))?;
    Ok(HttpResponse::Ok().json(signup.view()))
}
