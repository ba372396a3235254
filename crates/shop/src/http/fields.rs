//! `Fields`: DRF serializer-field validation over a `Payload` — required, null, blank, length,
//! integer, choice, date and email rules with DRF's zh-hans messages, errors collected per field in
//! the order fields are read.

use chrono::NaiveDate;
use serde_json::Value;

use super::body::{BodyKind, FieldValue, Payload, Upload};
use super::error::{ApiResult, FieldErrors};

pub mod messages {
    pub const REQUIRED: &str = "该字段是必填项。";
    pub const BLANK: &str = "该字段不能为空。";
    pub const NULL: &str = "该字段不能为 null。";
    pub const NOT_A_STRING: &str = "不是有效的字符串。";
    pub const NOT_AN_INTEGER: &str = "请填写合法的整数值。";
    pub const NOT_A_NUMBER: &str = "请填写合法的数字。";
    pub const DATE_FORMAT: &str = "日期格式错误。请从这些格式中选择：YYYY-MM-DD。";
    pub const EMAIL: &str = "请输入合法的邮件地址。";
    pub const NOT_A_FILE: &str = "提交的数据不是一个文件。请检查表单的编码类型。";
    pub const NO_FILE: &str = "没有提交任何文件。";

    pub fn max_length(n: usize) -> String {
        format!("请确保这个字段不能超过 {n} 个字符。")
    }

    pub fn wrong_pk_type(type_name: &str) -> String {
        format!("类型错误。期望为主键，获得的类型为 {type_name}。")
    }

    pub fn does_not_exist(pk: impl std::fmt::Display) -> String {
        format!("无效主键 “{pk}” － 对象不存在。")
    }

    pub fn bad_choice(value: &str) -> String {
        format!("“{value}” 不是合法选项。")
    }
}

/// What a text field accepts.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub required: bool,
    pub allow_blank: bool,
    pub allow_null: bool,
    pub max_length: Option<usize>,
}

impl Text {
    pub const fn required(max_length: usize) -> Self {
        Self { required: true, allow_blank: false, allow_null: false, max_length: Some(max_length) }
    }

    pub const fn optional(max_length: usize) -> Self {
        Self { required: false, allow_blank: false, allow_null: false, max_length: Some(max_length) }
    }

    pub const fn blank_ok(self) -> Self {
        Self { allow_blank: true, ..self }
    }

    pub const fn null_ok(self) -> Self {
        Self { allow_null: true, ..self }
    }

    pub const fn unbounded(self) -> Self {
        Self { max_length: None, ..self }
    }
}

/// A value that was sent: `Some(None)` is an explicit null.
pub type Sent<T> = Option<Option<T>>;

pub struct Fields<'a> {
    payload: &'a Payload,
    /// PATCH: absent fields are left alone, never "required".
    partial: bool,
    pub errors: FieldErrors,
}

impl<'a> Fields<'a> {
    pub fn new(payload: &'a Payload, partial: bool) -> Self {
        Self { payload, partial, errors: FieldErrors::new() }
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.add(field, message);
    }

    /// `parsed`'s value, or its message recorded against `field`.
    pub fn parsed<T>(&mut self, field: &str, parsed: Result<T, &'static str>) -> Option<T> {
        parsed.map_err(|message| self.error(field, message)).ok()
    }

    /// Whether the body has the field at all.
    pub fn contains(&self, field: &str) -> bool {
        self.payload.contains(field)
    }

    /// Ends validation: the collected errors as a 400, or `Ok`.
    pub fn finish(self) -> ApiResult<()> {
        self.errors.into_result()
    }

    /// Ends validation of a form whose one required value is `value`.
    pub fn finish_with<T>(self, value: Option<T>) -> ApiResult<T> {
        self.errors.into_result()?;
        // A required field that produced no error always produced a value.
        value.ok_or_else(|| anyhow::anyhow!("a required field was validated without a value").into())
    }

    /// The raw value, with DRF's form rule: a blank form value for an optional field counts as
    /// not sent (JSON text fields that allow blanks follow the same rule, so a multipart and a
    /// JSON message with an empty optional field are treated alike).
    fn raw(&self, name: &str, required: bool) -> Option<&'a FieldValue> {
        let value = self.payload.get(name)?;
        if self.payload.kind == BodyKind::Form && !required && matches!(value, FieldValue::Text(t) if t.is_empty()) {
            return None;
        }
        Some(value)
    }

    fn missing(&mut self, name: &str, required: bool) {
        if required && !self.partial {
            self.error(name, messages::REQUIRED);
        }
    }

    /// A text field, trimmed as DRF trims.
    pub fn text(&mut self, name: &str, rules: Text) -> Sent<String> {
        let Some(value) = self.raw(name, rules.required) else {
            self.missing(name, rules.required);
            return None;
        };
        let text = match value {
            FieldValue::Text(text) => text.clone(),
            FieldValue::Json(Value::String(text)) => text.clone(),
            FieldValue::Json(Value::Number(number)) => number.to_string(),
            FieldValue::Json(Value::Null) => {
                if rules.allow_null {
                    return Some(None);
                }
                self.error(name, messages::NULL);
                return None;
            }
            FieldValue::Json(_) | FieldValue::File(_) => {
                self.error(name, messages::NOT_A_STRING);
                return None;
            }
        };
        let text = text.trim().to_owned();
        if text.is_empty() && !rules.allow_blank {
            if rules.allow_null && self.payload.kind == BodyKind::Form {
                return Some(None);
            }
            self.error(name, messages::BLANK);
            return None;
        }
        if let Some(max) = rules.max_length
            && text.chars().count() > max
        {
            self.error(name, messages::max_length(max));
            return None;
        }
        Some(Some(text))
    }

    /// An integer field: JSON integers, integral floats and numeric strings.
    pub fn integer(&mut self, name: &str, required: bool) -> Option<i64> {
        let Some(value) = self.raw(name, required) else {
            self.missing(name, required);
            return None;
        };
        let parsed = match value {
            FieldValue::Json(Value::Number(number)) => number
                .as_i64()
                .or_else(|| number.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64)),
            FieldValue::Json(Value::String(text)) | FieldValue::Text(text) => parse_integer(text),
            FieldValue::Json(Value::Null) => {
                self.error(name, messages::NULL);
                return None;
            }
            _ => None,
        };
        if parsed.is_none() {
            self.error(name, messages::NOT_AN_INTEGER);
        }
        parsed
    }

    /// A number (DRF's `FloatField`): JSON numbers and numeric strings.
    pub fn number(&mut self, name: &str, required: bool) -> Option<f64> {
        let Some(value) = self.raw(name, required) else {
            self.missing(name, required);
            return None;
        };
        let parsed = match value {
            FieldValue::Json(Value::Number(number)) => number.as_f64(),
            FieldValue::Json(Value::String(text)) | FieldValue::Text(text) => {
                text.trim().parse::<f64>().ok().filter(|f| f.is_finite())
            }
            FieldValue::Json(Value::Null) => {
                self.error(name, messages::NULL);
                return None;
            }
            _ => None,
        };
        if parsed.is_none() {
            self.error(name, messages::NOT_A_NUMBER);
        }
        parsed
    }

    /// One of `choices`, compared as text (`"2"` and `2` are the same choice).
    pub fn choice<'c>(&mut self, name: &str, required: bool, choices: &[&'c str]) -> Option<&'c str> {
        let Some(value) = self.raw(name, required) else {
            self.missing(name, required);
            return None;
        };
        let text = match value {
            FieldValue::Text(text) | FieldValue::Json(Value::String(text)) => text.clone(),
            FieldValue::Json(Value::Null) => {
                self.error(name, messages::NULL);
                return None;
            }
            FieldValue::Json(other) => other.to_string(),
            FieldValue::File(upload) => upload.file_name.clone(),
        };
        let found = choices.iter().find(|choice| **choice == text).copied();
        if found.is_none() {
            self.error(name, messages::bad_choice(&text));
        }
        found
    }

    /// A `YYYY-MM-DD` date, or null.
    pub fn date(&mut self, name: &str) -> Sent<NaiveDate> {
        let value = self.raw(name, false)?;
        let text = match value {
            FieldValue::Json(Value::Null) => return Some(None),
            FieldValue::Text(text) | FieldValue::Json(Value::String(text)) => text.trim(),
            _ => "",
        };
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) if text.len() == 10 => Some(Some(date)),
            _ => {
                self.error(name, messages::DATE_FORMAT);
                None
            }
        }
    }

    /// An email address, `""` or null (both stored as null).
    pub fn email(&mut self, name: &str, max_length: usize) -> Sent<String> {
        let text = self.text(name, Text::optional(max_length).blank_ok().null_ok())?;
        match text {
            Some(text) if text.is_empty() => Some(None),
            Some(text) if !is_email(&text) => {
                self.error(name, messages::EMAIL);
                None
            }
            other => Some(other),
        }
    }

    /// A primary key (DRF's `PrimaryKeyRelatedField`): an integer or a numeric string. Whether
    /// the object exists is for the caller to check (`does_not_exist`).
    pub fn primary_key(&mut self, name: &str, required: bool) -> Option<i32> {
        let Some(value) = self.raw(name, required) else {
            self.missing(name, required);
            return None;
        };
        let (parsed, type_name) = match value {
            FieldValue::Json(Value::Number(number)) => (number.as_i64(), if number.is_f64() { "float" } else { "int" }),
            FieldValue::Json(Value::String(text)) | FieldValue::Text(text) => (parse_integer(text), "str"),
            FieldValue::Json(Value::Null) => {
                self.error(name, messages::NULL);
                return None;
            }
            FieldValue::Json(Value::Bool(_)) => (None, "bool"),
            FieldValue::Json(Value::Array(_)) => (None, "list"),
            FieldValue::Json(Value::Object(_)) => (None, "dict"),
            FieldValue::File(_) => (None, "InMemoryUploadedFile"),
        };
        match parsed.and_then(|id| i32::try_from(id).ok()) {
            Some(id) => Some(id),
            None => {
                self.error(name, messages::wrong_pk_type(type_name));
                None
            }
        }
    }

    /// A required uploaded file.
    pub fn file(&mut self, name: &str) -> Option<&'a Upload> {
        match self.payload.get(name) {
            Some(FieldValue::File(upload)) => Some(upload),
            Some(_) => {
                self.error(name, messages::NOT_A_FILE);
                None
            }
            None => {
                self.error(name, messages::NO_FILE);
                None
            }
        }
    }
}

/// Python's `int()` on a string: whitespace, a sign, digits; `"1.0"` too (DRF strips `.0`).
pub fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text.strip_suffix(".0").unwrap_or(text);
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Django's `EmailValidator`, simplified: one `@`, a plausible local part and a dotted domain.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in ["a@b.cn", "first.last+tag@mail.example.com", "x_y@中国.cn"] {
            assert!(is_email(good), "{good}");
        }
        for bad in ["", "a", "a@b", "a@@b.cn", "@b.cn", "a@.cn", "a b@c.cn", "a@b.1", ".a@b.cn", "a@-b.cn"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn integers_like_python() {
        assert_eq!(parse_integer(" 12 "), Some(12));
        assert_eq!(parse_integer("+3"), Some(3));
        assert_eq!(parse_integer("-3"), Some(-3));
        assert_eq!(parse_integer("2.0"), Some(2));
        for bad in ["", "1.5", "abc", "1e3", "0x1", "--1"] {
            assert_eq!(parse_integer(bad), None, "{bad}");
        }
    }

    #[test]
    fn text_rules_collect_errors() {
        let payload =
            Payload::from_json(serde_json::json!({"a": "  ", "b": "toolong", "c": null, "d": true, "e": 12})).unwrap();
        let mut fields = Fields::new(&payload, false);
        assert_eq!(fields.text("a", Text::required(5)), None);
        assert_eq!(fields.text("b", Text::required(5)), None);
        assert_eq!(fields.text("c", Text::required(5)), None);
        assert_eq!(fields.text("d", Text::required(5)), None);
        assert_eq!(fields.text("e", Text::required(5)), Some(Some("12".into())));
        assert_eq!(fields.text("missing", Text::required(5)), None);
        assert_eq!(fields.text("optional", Text::optional(5)), None);
        let mut expected = FieldErrors::new();
        expected.add("a", messages::BLANK);
        expected.add("b", messages::max_length(5));
        expected.add("c", messages::NULL);
        expected.add("d", messages::NOT_A_STRING);
        expected.add("missing", messages::REQUIRED);
        assert_eq!(fields.errors, expected);
    }
}
