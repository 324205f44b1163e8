//! A source's email-domain policy at intake: after the token and the payload, before
//! idempotency, so a refused address stores nothing and a retry of it is refused the same way.

use crate::config::SourceConfig;
use crate::domain::Email;
use crate::domain::email_domains::{DomainPolicy, DomainRefusal, domain_of};
use crate::error::ApiError;

/// 422 `email_domain_not_allowed` when the source's policy refuses `email`, counted by source
/// and reason.
pub fn check(source: &SourceConfig, email: &Email) -> Result<(), ApiError> {
    let policy = DomainPolicy {
        allowed: &source.allowed_email_domains,
        blocked: &source.blocked_email_domains,
        block_disposable: source.block_disposable_email,
    };
    let domain = domain_of(email.as_str());
    policy.check(&domain).map_err(|refusal| {
        crate::metrics::email_domain_refused(&source.id, refusal.as_str());
        let why = match refusal {
            DomainRefusal::NotAllowed => "is not one this source accepts",
            DomainRefusal::Blocked => "is blocked for this source",
            DomainRefusal::Disposable => "is a disposable-mail provider, which this source refuses",
        };
        ApiError::EmailDomainNotAllowed(format!("the email's domain {domain} {why}"))
    })
}
