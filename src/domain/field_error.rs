//! A field that failed validation: the domain's own error, which the HTTP edge reports as
//! `invalid_payload`.

use serde::Serialize;

/// One field that failed validation, named as it was read (`email`, `fullName`, `body`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
