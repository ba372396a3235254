//! What each account endpoint accepts, read from its body (JSON, form or multipart) into typed
//! values, with DRF's rules and the contract's messages. Services take these forms, never the
//! body. A form whose service adds checks of its own (a taken name, a wrong code) is read as a
//! `Draft`, so that all its errors are reported together, in field order.

use chrono::NaiveDate;

use super::values::{Mobile, Password, SmsCode, Username};
use crate::http::FieldErrors;
use crate::http::body::Payload;
use crate::http::draft::Draft;
use crate::http::fields::{Fields, Text};

/// `POST /code/`
pub struct SendCodeForm {
    /// As typed: whether someone has it is checked before its format (the contract's order).
    pub typed: String,
    pub mobile: Result<Mobile, &'static str>,
}

impl SendCodeForm {
    pub fn read(payload: &Payload) -> Result<Self, FieldErrors> {
        let mut fields = Fields::new(payload, false);
        match fields.text("mobile", Text::required(11)).flatten() {
            Some(typed) if fields.errors.is_empty() => Ok(Self { mobile: Mobile::parse(&typed), typed }),
            _ => Err(fields.errors),
        }
    }
}

/// `POST /users/`: the mobile the code was sent to (it becomes the username), the code, a
/// password.
pub struct RegisterForm {
    pub username: String,
    pub code: SmsCode,
    pub password: Password,
}

/// A `RegisterForm` as read, before the code is checked.
pub struct RegisterFields {
    pub username: Option<String>,
    pub code: Option<SmsCode>,
    pub password: Option<Password>,
}

impl RegisterForm {
    pub fn read(payload: &Payload) -> Draft<RegisterFields> {
        let mut fields = Fields::new(payload, false);
        let username = fields.text("username", Text::required(150)).flatten();
        let code = fields.text("code", Text::optional(4).blank_ok().unbounded()).flatten().unwrap_or_default();
        let code = fields.parsed("code", SmsCode::parse(&code));
        let password = fields.text("password", Text::required(128)).flatten();
        let password = password.and_then(|password| fields.parsed("password", Password::parse(password)));
        Draft::new(RegisterFields { username, code, password }, fields.errors, &["username", "code", "password"])
    }

    pub fn complete(fields: RegisterFields) -> Option<Self> {
        Some(Self { username: fields.username?, code: fields.code?, password: fields.password? })
    }
}

/// `POST /login/`: a username or mobile and the password to check.
pub struct LoginForm {
    pub username: String,
    pub password: String,
}

impl LoginForm {
    pub fn read(payload: &Payload) -> Result<Self, FieldErrors> {
        let mut fields = Fields::new(payload, false);
        let username = fields.text("username", Text::required(150)).flatten();
        let password = fields.text("password", Text::required(128)).flatten();
        match (username, password) {
            (Some(username), Some(password)) => Ok(Self { username, password }),
            _ => Err(fields.errors),
        }
    }
}

/// The signed-in user's new password, with the current one to confirm it.
pub struct PasswordChangeForm {
    pub old_password: String,
    pub new_password: Password,
}

/// A `PasswordChangeForm` as read, before the current password is checked.
pub struct PasswordChangeFields {
    pub old_password: Option<String>,
    pub new_password: Option<Password>,
    /// A new password was typed (the current one is checked only then, as before the policy).
    pub new_password_sent: bool,
}

impl PasswordChangeForm {
    pub fn read(payload: &Payload) -> Draft<PasswordChangeFields> {
        let mut fields = Fields::new(payload, false);
        let old_password = fields.text("old_password", Text::required(128)).flatten();
        let new_password = fields.text("new_password", Text::required(128)).flatten();
        let new_password_sent = new_password.is_some();
        let new_password = new_password.and_then(|new| fields.parsed("new_password", Password::parse(new)));
        let read = PasswordChangeFields { old_password, new_password, new_password_sent };
        Draft::new(read, fields.errors, &["old_password", "new_password"])
    }

    pub fn complete(fields: PasswordChangeFields) -> Option<Self> {
        Some(Self { old_password: fields.old_password?, new_password: fields.new_password? })
    }
}

/// `PATCH`/`PUT /users/{any}/`: the profile fields sent (`PUT` requires `username`); `None`
/// leaves a field as it is, `Some(None)` clears it.
pub struct ProfileForm {
    pub username: Option<Username>,
    pub gender: Option<&'static str>,
    pub birthday: Option<Option<NaiveDate>>,
    pub email: Option<Option<String>>,
}

impl ProfileForm {
    /// `partial` for PATCH: a field not sent is left alone, never "required".
    pub fn read(payload: &Payload, partial: bool) -> Draft<ProfileForm> {
        let mut fields = Fields::new(payload, partial);
        let username = fields.text("username", Text::required(150)).flatten();
        let username = username.and_then(|name| fields.parsed("username", Username::parse(name)));
        let gender = fields.choice("gender", false, &["male", "female"]);
        let birthday = fields.date("birthday");
        let email = fields.email("email", 100);
        let read = ProfileForm { username, gender, birthday, email };
        Draft::new(read, fields.errors, &["username", "gender", "birthday", "email"])
    }
}
