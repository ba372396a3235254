//! Login tokens: HS256 JWTs with drf-jwt's payload `{user_id, username, exp, email}`. `exp` is
//! required (the original accepted tokens without it); tokens resolve by `user_id`, and carry a
//! tag of the password hash (`pwv`) so that changing the password revokes them.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::db::entities::user;
use crate::secrets::Keys;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub user_id: i32,
    pub username: String,
    pub exp: i64,
    pub email: Option<String>,
    /// Not issued by us; checked when present so that a token "issued in the future" is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The password version (`Keys::password_version`) at issue: a password change or a logout
    /// (which moves the user's session epoch on) revokes it.
    /// A token without one (issued before versions existed) matches no password.
    #[serde(default)]
    pub pwv: String,
}

/// Why a token was refused, each with drf-jwt's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Undecodable,
    InvalidPayload,
    Invalid,
    /// Well signed, but issued before the password changed.
    Revoked,
}

impl TokenError {
    pub fn message(self) -> &'static str {
        match self {
            TokenError::Expired => "Signature has expired.",
            TokenError::Undecodable => "Error decoding signature.",
            TokenError::InvalidPayload => "Invalid payload.",
            TokenError::Invalid => "不正确的身份认证信息。",
            TokenError::Revoked => "登录已失效（密码已修改），请重新登录。",
        }
    }
}

/// Clock skew tolerated for `iat`.
const IAT_LEEWAY_SECS: i64 = 60;

pub fn issue(keys: &Keys, user: &user::Model, lifetime_secs: u64) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = Claims {
        user_id: user.id,
        username: user.username.clone(),
        exp: chrono::Utc::now().timestamp() + lifetime_secs as i64,
        email: user.email.clone(),
        iat: None,
        pwv: keys.password_version(&user.password, user.session_epoch),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.jwt_encoding)
}

pub fn verify(keys: &Keys, token: &str) -> Result<Claims, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp"]);
    // A header that does not parse (`"alg": "none"` among others) is undecodable, not a payload issue.
    jsonwebtoken::decode_header(token).map_err(|_| TokenError::Undecodable)?;
    // Signature and time claims first, over the payload as it is; its shape is checked after.
    let payload = jsonwebtoken::decode::<serde_json::Value>(token, &keys.jwt_decoding, &validation)
        .map_err(|error| match error.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::MissingRequiredClaim(_) | ErrorKind::ImmatureSignature | ErrorKind::InvalidClaimFormat(_) => {
                TokenError::Invalid
            }
            _ => TokenError::Undecodable,
        })?
        .claims;
    let claims: Claims = serde_json::from_value(payload).map_err(|_| TokenError::InvalidPayload)?;
    if claims.iat.is_some_and(|iat| iat > chrono::Utc::now().timestamp() + IAT_LEEWAY_SECS) {
        return Err(TokenError::Invalid);
    }
    Ok(claims)
}
