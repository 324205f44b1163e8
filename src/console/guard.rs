//! What every console POST must show: a same-origin `Origin` (or, without one, `Referer`) and,
//! once signed in, the session's CSRF token. A refusal is 403 before anything changes.

use actix_web::HttpRequest;
use actix_web::http::header;
use subtle::ConstantTimeEq;

use super::session::Operator;
use super::{ConsoleState, Refusal};

/// Refuse a POST from another origin.
pub fn same_origin(req: &HttpRequest, state: &ConsoleState) -> Result<(), Refusal> {
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    let allowed = |origin: &str| {
        origin.eq_ignore_ascii_case(&own)
            || state
                .public_origin
                .as_deref()
                .is_some_and(|p| origin.eq_ignore_ascii_case(p))
    };
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let ok = match (header(header::ORIGIN), header(header::REFERER)) {
        (Some(origin), _) => allowed(origin),
        (None, Some(referer)) => {
            url::Url::parse(referer).is_ok_and(|u| allowed(&u.origin().ascii_serialization()))
        }
        (None, None) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Refusal::Forbidden(
            "a console form must be sent from the console's own origin",
        ))
    }
}

/// Refuse a signed-in POST from another origin or without the session's CSRF token.
pub fn check_post(
    req: &HttpRequest,
    state: &ConsoleState,
    operator: &Operator,
    csrf: &str,
) -> Result<(), Refusal> {
    same_origin(req, state)?;
    let matches: bool = csrf.as_bytes().ct_eq(operator.csrf.as_bytes()).into();
    if matches {
        Ok(())
    } else {
        Err(Refusal::Forbidden(
            "the form's CSRF token is missing or not this session's; reload the page",
        ))
    }
}
