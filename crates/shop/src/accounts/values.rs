//! The values an account is made of, each parsed once at the edge into a type that can only hold
//! a valid one: a mobile number, a password that meets the policy, an SMS code as typed, a
//! profile's username. The messages are the contract's (zh-hans), shown next to their field.

use std::fmt;

pub mod messages {
    pub const BAD_MOBILE: &str = "手机号码非法";
    pub const PASSWORD_LENGTH: &str = "密码长度应为6到20个字符。";
    pub const PASSWORD_CHINESE: &str = "密码不能包含中文字符。";
    pub const ENTER_CODE: &str = "请输入验证码";
    pub const CODE_FORMAT: &str = "验证码格式错误";
    pub const USERNAME_CHARSET: &str = "请输入合法用户名。只能包含字母，数字和@/./+/-/_ 字符。";
}

/// A mainland mobile number as the original accepts it: `^1[358]\d{9}$|^147\d{8}$|^176\d{8}$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mobile(String);

impl Mobile {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let bytes = text.as_bytes();
        let valid = bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && (matches!(&bytes[..2], b"13" | b"15" | b"18") || &bytes[..3] == b"147" || &bytes[..3] == b"176");
        if valid { Ok(Self(text.to_owned())) } else { Err(messages::BAD_MOBILE) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password that meets the policy the UI states: 6–20 characters, no Chinese. (A password
/// typed to log in or to confirm a change is checked against the stored hash, not this policy.)
pub struct Password(String);

impl Password {
    pub fn parse(text: String) -> Result<Self, &'static str> {
        let length = text.chars().count();
        if !(6..=20).contains(&length) {
            return Err(messages::PASSWORD_LENGTH);
        }
        let chinese = text
            .chars()
            .any(|c| matches!(c, '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{20000}'..='\u{2fa1f}'));
        if chinese { Err(messages::PASSWORD_CHINESE) } else { Ok(Self(text)) }
    }

    /// The password itself, to hash.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Never printed: a password in a log line is a leak.
impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// An SMS code as typed at registration: four characters (whether it is the code sent is the
/// service's question).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsCode(String);

impl SmsCode {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        match text.chars().count() {
            0 => Err(messages::ENTER_CODE),
            4 => Ok(Self(text.to_owned())),
            _ => Err(messages::CODE_FORMAT),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A username chosen on the profile page: letters, digits and `@.+-_` (Django's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(text: String) -> Result<Self, &'static str> {
        if text.chars().all(|c| c.is_alphanumeric() || "@.+-_".contains(c)) {
            Ok(Self(text))
        } else {
            Err(messages::USERNAME_CHARSET)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_follow_the_original_pattern() {
        for good in ["13800138000", "15912345678", "18612345678", "14712345678", "17612345678"] {
            assert_eq!(Mobile::parse(good).map(|m| m.to_string()), Ok(good.to_owned()));
        }
        for bad in ["12800138000", "1380013800", "138001380000", "17712345678", "1380013800a", "１3800138000", ""] {
            assert_eq!(Mobile::parse(bad), Err(messages::BAD_MOBILE), "{bad}");
        }
    }

    #[test]
    fn passwords_follow_the_policy() {
        assert!(Password::parse("123456".into()).is_ok());
        assert!(Password::parse("a".repeat(20)).is_ok());
        assert_eq!(Password::parse("12345".into()).err(), Some(messages::PASSWORD_LENGTH));
        assert_eq!(Password::parse("a".repeat(21)).err(), Some(messages::PASSWORD_LENGTH));
        assert_eq!(Password::parse("密码abcdef".into()).err(), Some(messages::PASSWORD_CHINESE));
        assert_eq!(format!("{:?}", Password::parse("secret-pw".into()).unwrap()), "Password(…)");
    }

    #[test]
    fn codes_are_four_characters() {
        assert_eq!(SmsCode::parse("1234").map(|c| c.as_str().to_owned()), Ok("1234".to_owned()));
        assert!(SmsCode::parse("验证码四").is_ok(), "four characters, whatever they are");
        assert_eq!(SmsCode::parse(""), Err(messages::ENTER_CODE));
        assert_eq!(SmsCode::parse("123"), Err(messages::CODE_FORMAT));
        assert_eq!(SmsCode::parse("12345"), Err(messages::CODE_FORMAT));
    }

    #[test]
    fn usernames_take_django_characters() {
        assert!(Username::parse("alice.b+c@x-y_z".into()).is_ok());
        assert_eq!(Username::parse("a b".into()).err(), Some(messages::USERNAME_CHARSET));
        assert_eq!(Username::parse("a/b".into()).err(), Some(messages::USERNAME_CHARSET));
    }
}
