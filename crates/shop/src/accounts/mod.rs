//! Accounts (Django app `users`): SMS codes, registration, JWT login, the current user's profile.

pub mod codes;
pub mod forms;
pub(crate) mod handlers;
pub mod passwords;
pub mod sms;
pub mod tokens;
pub mod user_cache;
pub mod users;
pub mod values;

use sea_orm::DbErr;
use utoipa_axum::routes;

use crate::http::routes::Routes;
use crate::http::{ApiError, FieldErrors};
use crate::throttle::LimitError;

/// Why an account service refused or failed; the handlers' `ApiError` says it in HTTP.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Field (or `non_field_errors`) messages, in the form's field order.
    #[error("invalid: {0:?}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Limited(#[from] LimitError),
    #[error(transparent)]
    Hashing(#[from] passwords::HashingError),
    /// The SMS provider did not send the code: its message, for the `mobile` field.
    #[error("the SMS provider refused: {0}")]
    SmsRefused(String),
    #[error(transparent)]
    Storage(#[from] DbErr),
}

impl AccountError {
    pub fn field(field: &str, message: &str) -> Self {
        Self::Invalid(FieldErrors::single(field, message))
    }
}

impl From<FieldErrors> for AccountError {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(errors) => ApiError::Validation(errors),
            AccountError::Limited(error) => error.into(),
            AccountError::Hashing(error) => error.into(),
            AccountError::SmsRefused(message) => ApiError::Provider { field: "mobile", message },
            AccountError::Storage(error) => ApiError::Database(error),
        }
    }
}

pub fn routes(api: Routes) -> Routes {
    api.api(routes!(handlers::send_code))
        .api(routes!(handlers::register, handlers::get_own_profile))
        .api(routes!(handlers::get_profile, handlers::patch_profile, handlers::put_profile))
        .api(routes!(handlers::login))
}
