//! `Draft`: a form read from a request body before the service's own checks. It holds each
//! field's value if it parsed and every field error found so far; the service adds what only it
//! can find (a taken name, a wrong code), then `finish` gives the typed form, or all the errors
//! in the form's field order, as DRF reports them whoever found them.

use super::error::FieldErrors;

pub struct Draft<T> {
    /// The fields that parsed (`None` where a field had an error or was not sent).
    pub fields: T,
    errors: FieldErrors,
    order: &'static [&'static str],
}

impl<T> Draft<T> {
    pub fn new(fields: T, errors: FieldErrors, order: &'static [&'static str]) -> Self {
        Self { fields, errors, order }
    }

    /// A field (or `non_field_errors`) refused by the service.
    pub fn refuse(&mut self, field: &str, message: impl Into<String>) {
        self.errors.add(field, message);
    }

    /// The typed form `complete` builds once nothing was refused; else every error, in order.
    pub fn finish<F>(self, complete: impl FnOnce(T) -> Option<F>) -> Result<F, FieldErrors> {
        if self.errors.is_empty() {
            // A required field that produced no error always produced a value.
            if let Some(form) = complete(self.fields) {
                return Ok(form);
            }
            tracing::error!("a form had no errors but a field without a value");
            return Err(FieldErrors::single("non_field_errors", super::fields::messages::REQUIRED));
        }
        Err(self.errors.ordered(self.order))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_come_in_field_order_whoever_found_them() {
        let mut found = FieldErrors::new();
        found.add("password", "too short");
        let mut draft = Draft::new((Some("13800138000"), None::<&str>), found, &["username", "code", "password"]);
        draft.refuse("code", "wrong code");
        draft.refuse("username", "taken");
        draft.refuse("non_field_errors", "later");
        let errors = draft.finish(|(username, code)| Some((username?, code?))).unwrap_err();
        let names: Vec<&str> = errors.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["username", "code", "password", "non_field_errors"]);
    }

    #[test]
    fn a_draft_without_errors_is_the_form() {
        let draft = Draft::new((Some(1), Some(2)), FieldErrors::new(), &["a", "b"]);
        assert_eq!(draft.finish(|(a, b)| Some(a? + b?)), Ok(3));
    }
}
