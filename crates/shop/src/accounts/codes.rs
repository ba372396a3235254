//! SMS verification codes: sending (the contract's checks in order, one send per mobile per 60 s,
//! a limit per client address), checking at registration (valid 5 minutes, void after 5 wrong
//! guesses) and consuming (single use, in the registering transaction).

use std::time::Duration;

use chrono::TimeDelta;
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::AccountError;
use super::forms::SendCodeForm;
use super::values::{Mobile, SmsCode};
use crate::clock::now_utc;
use crate::db::entities::{user, verify_code};
use crate::http::FieldErrors;
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
    pub const TOO_SOON: &str = "距离上一次发送未超过60s";
    pub const WRONG_CODE: &str = "验证码错误";
    pub const EXPIRED_CODE: &str = "验证码过期";
}

/// Sends a fresh code to the mobile of `POST /code/` and stores its hash. Every request is
/// counted per client address first, a form that did not read included; then the contract's
/// checks, in its order: registered already, not a mobile, too soon; then the per-mobile and
/// shop-wide daily budgets.
pub async fn send_code(
    state: &AppState,
    form: Result<SendCodeForm, FieldErrors>,
    client: &str,
) -> Result<Mobile, AccountError> {
    SEND_LIMIT.take(&state.db, state.clock.as_ref(), client).await?;
    let form = form?;
    if user::Entity::find().filter(user::Column::Mobile.eq(&form.typed)).one(&state.db).await?.is_some() {
        return Err(AccountError::field("mobile", messages::USER_EXISTS));
    }
    let mobile = form.mobile.map_err(|message| AccountError::field("mobile", message))?;
    let too_soon = || AccountError::field("mobile", messages::TOO_SOON);
    let now = state.clock.now();
    let recent = verify_code::Entity::find()
        .filter(verify_code::Column::Mobile.eq(mobile.as_str()))
        .filter(verify_code::Column::AddTime.gt(now - RESEND_AFTER))
        .one(&state.db)
        .await?;
    if recent.is_some() {
        return Err(too_soon());
    }
    // The check above reads rows written after sending; of parallel requests only one passes this.
    let Ok(spacing) = RESEND_LIMIT.take(&state.db, state.clock.as_ref(), mobile.as_str()).await else {
        return Err(too_soon());
    };
    let daily = match MOBILE_DAILY_LIMIT.take(&state.db, state.clock.as_ref(), mobile.as_str()).await {
        Ok(hit) => hit,
        Err(refused) => {
            spacing.give_back(&state.db).await?;
            return Err(refused.into());
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
            return Err(refused.into());
        }
    };
    let code = format!("{:04}", rand::rng().random_range(0..10_000));
    if let Err(error) = state.sms.send(mobile.as_str(), &code).await {
        // Nothing was sent: the client may try again at once, and nothing was spent.
        for hit in [spacing, daily, shop_wide] {
            hit.give_back(&state.db).await?;
        }
        return Err(AccountError::SmsRefused(error.0));
    }
    verify_code::Entity::insert(verify_code::ActiveModel {
        mobile: Set(mobile.to_string()),
        code_hash: Set(state.keys.code_hash(mobile.as_str(), &code)),
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
pub async fn check_code(state: &AppState, mobile: &str, code: &SmsCode) -> Result<CodeCheck, DbErr> {
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
    if !state.keys.code_matches(mobile, code.as_str(), &latest.code_hash) {
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
