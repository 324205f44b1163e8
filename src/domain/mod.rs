//! Domain types, parsed once and valid ever after.

mod customer;
mod display_name;
mod email;
pub mod email_domains;
mod erased_text;
mod field_error;
mod fields;
mod idempotency_key;
mod last_error;
mod new_signup;
mod signup;

pub use crate::config::compile_path;
pub use customer::existing_customer;
pub use display_name::DisplayName;
pub use email::{Email, mask_email, mask_emails_in};
pub use erased_text::{PersonalText, REDACTED};
pub use field_error::FieldError;
pub use fields::{FieldMap, Mapped};
pub use idempotency_key::{IdempotencyKey, fingerprint};
pub use last_error::{CATEGORIES as LAST_ERROR_CATEGORIES, LastError, escape_controls};
pub use new_signup::{BodyFormat, NewSignup, document};
pub use signup::{
    ERASED, Signup, SignupStatus, SignupView, Step, StepKind, StepState, now_ms, rfc3339_ms,
};
