//! The one error type that crosses the wire between the server and the page.
//! Services return it; server functions pass it through; the REST API maps it
//! to its JSON shape once, at the edge.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// One message for one form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Everything wrong with a submitted form, plus the (non-secret) values that
/// were typed, so a page reloaded without JavaScript can show them again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormErrors {
    pub fields: Vec<FieldError>,
    pub values: Vec<(String, String)>,
}

impl FormErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn keep(&mut self, field: &str, value: &str) {
        self.values.push((field.into(), value.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn message_for(&self, field: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.message.clone())
    }

    pub fn value_for(&self, field: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value.clone())
    }

    /// `Ok(())` when nothing was wrong, otherwise the whole set as an error.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self))
        }
    }

    fn summary(&self) -> String {
        match self.fields.as_slice() {
            [one] => one.message.clone(),
            _ => "Some fields need attention".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{}", .0.summary())]
    Invalid(FormErrors),
    #[error("Invalid email or password")]
    BadCredentials,
    /// Too many password checks for an account, an address or a re-entry.
    #[error("{message}")]
    LockedOut { message: String, retry_after: u64 },
    /// Every password-checking slot is taken; the client may retry shortly.
    #[error("The server is busy checking passwords; try again in a moment")]
    Busy { retry_after: u64 },
    /// Ingest past `--max-queued` queued deliveries; nothing was stored.
    #[error("The delivery queue is full; nothing was stored, send it again later")]
    QueueFull { retry_after: u64 },
    #[error("Sign in to continue")]
    Unauthenticated,
    #[error("You do not have permission to do that")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Something went wrong on our side; the server log has the details")]
    Internal,
    /// The request never reached the function (network, decoding).
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FormErrors::default();
        errors.add(field, message);
        AppError::Invalid(errors)
    }

    /// The form errors, if this is a validation failure.
    pub fn form(&self) -> Option<&FormErrors> {
        match self {
            AppError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }

    /// Seconds after which a retry may succeed, for a `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::LockedOut { retry_after, .. }
            | AppError::Busy { retry_after }
            | AppError::QueueFull { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// A stable machine-readable code for the REST API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "invalid",
            AppError::BadCredentials => "bad_credentials",
            AppError::LockedOut { .. } => "locked_out",
            AppError::Busy { .. } => "busy",
            AppError::QueueFull { .. } => "queue_full",
            AppError::Unauthenticated => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Internal => "internal",
            AppError::Transport(_) => "bad_request",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
