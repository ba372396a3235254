//! SMS verification codes: sending (the contract's checks in order, one send per mobile per 60 s,
//! a limit per client address), checking at registration (valid 5 minutes, void after 5 wrong
//! guesses) and consuming (single use, in the registering transaction).

use std::time::Duration;

use chrono::TimeDelta;
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::clock::now_utc;
use crate::db::entities::{user, verify_code};
use crate::http::fields::{Fields, Text};
use crate::http::{ApiError, ApiResult, FieldErrors};
use crate::state::AppState;
use crate::throttle::Limit;

pub const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(5);
const RESEND_AFTER: TimeDelta = TimeDelta::seconds(60);
pub const MAX_WRONG_GUESSES: i32 = 5;

/// `/code/` requests per client address (every request counts: the answer reveals whether a
/// mobile is registered).
pub const SEND_LIMIT: Limit = Limit { scope: "sms-code-address", max: 20, window: Duration::from_secs(3600) };
/// One code per mobile per `RESEND_AFTER`, also under concurrency.
const RESEND_LIMIT: Limit = Limit { scope: "sms-code-spacing", max: 1, window: Duration::from_secs(60) };
/// Codes sent to one mobile per day, besides the 60 s spacing: nobody can use the shop to flood a
/// phone, and each message costs the shop money.
pub const MOBILE_DAILY_LIMIT: Limit =
    Limit { scope: "sms-code-mobile", max: 10, window: Duration::from_secs(24 * 3600) };

pub mod messages {
    pub const USER_EXISTS: &str = "用户已经存在";
    pub const BAD_MOBILE: &str = "手机号码非法";
    pub const TOO_SOON: &str = "距离上一次发送未超过60s";
    pub const ENTER_CODE: &str = "请输入验证码";
    pub const CODE_FORMAT: &str = "验证码格式错误";
    pub const WRONG_CODE: &str = "验证码错误";
    pub const EXPIRED_CODE: &str = "验证码过期";
}

/// `^1[358]\d{9}$|^147\d{8}$|^176\d{8}$`
pub fn is_mobile(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 11
        && bytes.iter().all(u8::is_ascii_digit)
        && (matches!(&bytes[..2], b"13" | b"15" | b"18") || &bytes[..3] == b"147" || &bytes[..3] == b"176")
}

/// Validates the mobile of `POST /code/`, sends a fresh code and stores its hash. Requests are
/// counted per client address first.
pub async fn send_code(state: &AppState, fields: &mut Fields<'_>, client: &str) -> ApiResult<String> {
    SEND_LIMIT.take(&state.db, state.clock.as_ref(), client).await?;
    let Some(Some(mobile)) = fields.text("mobile", Text::required(11)) else {
        return Err(ApiError::Validation(std::mem::take(&mut fields.errors)));
    };
    let refuse = |message: &str| Err(ApiError::Validation(FieldErrors::single("mobile", message)));
    if user::Entity::find().filter(user::Column::Mobile.eq(&mobile)).one(&state.db).await?.is_some() {
        return refuse(messages::USER_EXISTS);
    }
    if !is_mobile(&mobile) {
        return refuse(messages::BAD_MOBILE);
    }
    let now = state.clock.now();
    let recent = verify_code::Entity::find()
        .filter(verify_code::Column::Mobile.eq(&mobile))
        .filter(verify_code::Column::AddTime.gt(now - RESEND_AFTER))
        .one(&state.db)
        .await?;
    if recent.is_some() {
        return refuse(messages::TOO_SOON);
    }
    // The check above reads rows written after sending; of parallel requests only one passes this.
    let Ok(spacing) = RESEND_LIMIT.take(&state.db, state.clock.as_ref(), &mobile).await else {
        return refuse(messages::TOO_SOON);
    };
    let daily = match MOBILE_DAILY_LIMIT.take(&state.db, state.clock.as_ref(), &mobile).await {
        Ok(hit) => hit,
        Err(refused) => {
            spacing.give_back(&state.db).await?;
            return Err(refused);
        }
    };
    let all =
        Limit { scope: "sms-code-all", max: state.config.sms.daily_limit, window: Duration::from_secs(24 * 3600) };
    let shop_wide = match all.take(&state.db, state.clock.as_ref(), "all").await {
        Ok(hit) => hit,
        Err(refused) => {
            tracing::error!(
                limit = state.config.sms.daily_limit,
                "the shop's daily SMS budget is spent (sms.daily_limit)"
            );
            spacing.give_back(&state.db).await?;
            daily.give_back(&state.db).await?;
            return Err(refused);
        }
    };
    let code = format!("{:04}", rand::rng().random_range(0..10_000));
    if let Err(error) = state.sms.send(&mobile, &code).await {
        // Nothing was sent: the client may try again at once, and nothing was spent.
        for hit in [spacing, daily, shop_wide] {
            hit.give_back(&state.db).await?;
        }
        return Err(ApiError::Provider { field: "mobile", message: error.0 });
    }
    verify_code::Entity::insert(verify_code::ActiveModel {
        mobile: Set(mobile.clone()),
        code_hash: Set(state.keys.code_hash(&mobile, &code)),
        failed_attempts: Set(0),
        used_at: Set(None),
        add_time: Set(now),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(mobile)
}

/// The outcome of checking a code typed at registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Correct: the id of the code row, to consume with the registration.
    Valid(i32),
    Wrong,
    Expired,
}

/// Checks `code` against the latest code sent to `mobile`; a wrong guess is counted.
pub async fn check_code(state: &AppState, mobile: &str, code: &str) -> Result<CodeCheck, DbErr> {
    let latest = verify_code::Entity::find()
        .filter(verify_code::Column::Mobile.eq(mobile))
        .order_by_desc(verify_code::Column::AddTime)
        .order_by_desc(verify_code::Column::Id)
        .one(&state.db)
        .await?;
    let Some(latest) = latest else { return Ok(CodeCheck::Wrong) };
    if latest.used_at.is_some() || latest.failed_attempts >= MAX_WRONG_GUESSES {
        return Ok(CodeCheck::Wrong);
    }
    if latest.add_time < state.clock.now() - CODE_LIFETIME {
        return Ok(CodeCheck::Expired);
    }
    if !state.keys.code_matches(mobile, code, &latest.code_hash) {
        verify_code::Entity::update_many()
            .col_expr(verify_code::Column::FailedAttempts, Expr::col(verify_code::Column::FailedAttempts).add(1))
            .filter(verify_code::Column::Id.eq(latest.id))
            .exec(&state.db)
            .await?;
        return Ok(CodeCheck::Wrong);
    }
    Ok(CodeCheck::Valid(latest.id))
}

/// Marks the code used; `false` when another request used it (or guessed it void) first.
pub async fn consume_code(db: &impl ConnectionTrait, code_id: i32) -> Result<bool, DbErr> {
    let updated = verify_code::Entity::update_many()
        .col_expr(verify_code::Column::UsedAt, Expr::value(now_utc()))
        .filter(verify_code::Column::Id.eq(code_id))
        .filter(verify_code::Column::UsedAt.is_null())
        .filter(verify_code::Column::FailedAttempts.lt(MAX_WRONG_GUESSES))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::is_mobile;

    #[test]
    fn mobiles_follow_the_original_pattern() {
        for good in ["13800138000", "15912345678", "18612345678", "14712345678", "17612345678"] {
            assert!(is_mobile(good), "{good}");
        }
        for bad in ["12800138000", "1380013800", "138001380000", "17712345678", "1380013800a", "１3800138000"] {
            assert!(!is_mobile(bad), "{bad}");
        }
    }
}
