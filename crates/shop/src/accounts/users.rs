//! Accounts: registration, login (username or mobile, throttled), the profile, and the CLI's
//! user management. Passwords are hashed before the one insert that creates a user.

use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait,
};

use super::AccountError;
use super::codes::{self, CodeCheck};
use super::forms::{LoginForm, PasswordChangeFields, PasswordChangeForm, ProfileForm, RegisterFields, RegisterForm};
use super::passwords::{self, Verdict};
use super::values::{Mobile, Password};
use crate::accounts::user_cache::UserCache;
use crate::clock::now_utc;
use crate::db;
use crate::db::entities::user;
use crate::http::draft::Draft;
use crate::state::AppState;
use crate::throttle::Limit;

pub mod messages {
    pub const BAD_CREDENTIALS: &str = "无法使用提供的认证信息登录。";
    pub const USERNAME_TAKEN: &str = "已存在一位使用该名字的用户。";
    pub const USERNAME_IS_A_MOBILE: &str = "用户名不能是他人的手机号码。";
    pub const WRONG_PASSWORD: &str = "原密码不正确。";
}

/// Registrations per client address.
pub const REGISTER_LIMIT: Limit = Limit { scope: "register-address", max: 20, window: Duration::from_secs(3600) };
/// Failed (and in-flight) logins per client address.
pub const LOGIN_ADDRESS_LIMIT: Limit = Limit { scope: "login-address", max: 30, window: Duration::from_secs(900) };
/// Failed (and in-flight) logins per account.
pub const LOGIN_ACCOUNT_LIMIT: Limit = Limit { scope: "login-account", max: 10, window: Duration::from_secs(900) };

/// `POST /users/`: the username (the mobile the code was sent to) is checked for an account, the
/// code against the latest one sent, and every error is reported together with the form's own;
/// on success the user (username = mobile) is created and the code consumed, in one transaction.
/// Registrations are counted per client address first.
pub async fn register(
    state: &AppState,
    mut draft: Draft<RegisterFields>,
    client: &str,
) -> Result<user::Model, AccountError> {
    REGISTER_LIMIT.take(&state.db, state.clock.as_ref(), client).await?;
    if let Some(name) = &draft.fields.username
        && find_by_username_or_mobile(&state.db, name).await?.is_some()
    {
        draft.refuse("username", codes::messages::USER_EXISTS);
    }
    let mut code_id = None;
    // Checked only when there is a username to check it for (the original crashed without one).
    if let (Some(mobile), Some(code)) = (&draft.fields.username, &draft.fields.code) {
        match codes::check_code(state, mobile, code).await? {
            CodeCheck::Valid(id) => code_id = Some(id),
            CodeCheck::Wrong => draft.refuse("code", codes::messages::WRONG_CODE),
            CodeCheck::Expired => draft.refuse("code", codes::messages::EXPIRED_CODE),
        }
    }
    let form = draft.finish(RegisterForm::complete)?;
    let code_id = code_id.ok_or_else(|| AccountError::field("code", codes::messages::WRONG_CODE))?;

    let hash = passwords::hash_blocking(form.password.into_inner()).await?;
    let username = form.username;
    let mobile = (username.chars().count() <= 11).then(|| username.clone());
    let txn = state.db.begin().await?;
    let result = async {
        if !codes::consume_code(&txn, code_id).await? {
            return Err(AccountError::field("code", codes::messages::WRONG_CODE));
        }
        match user::Entity::insert(new_user(&username, hash, mobile, false)).exec_with_returning(&txn).await {
            Ok(user) => Ok(user),
            Err(error) if crate::db::is_unique_violation(&error) => {
                Err(AccountError::field("username", codes::messages::USER_EXISTS))
            }
            Err(error) => Err(error.into()),
        }
    }
    .await;
    let user = db::finish(txn, result).await?;
    tracing::info!(user_id = user.id, "registered a user");
    Ok(user)
}

fn new_user(username: &str, password_hash: String, mobile: Option<String>, superuser: bool) -> user::ActiveModel {
    user::ActiveModel {
        username: Set(username.to_owned()),
        password: Set(password_hash),
        name: Set(None),
        birthday: Set(None),
        gender: Set("female".into()),
        mobile: Set(mobile),
        email: Set(None),
        is_active: Set(true),
        is_superuser: Set(superuser),
        date_joined: Set(now_utc()),
        last_login: Set(None),
        ..Default::default()
    }
}

/// The user whose username is `name`, else the one whose mobile is `name`: login by mobile works,
/// and a username that looks like someone else's mobile still finds its own user first.
pub async fn find_by_username_or_mobile(db: &DatabaseConnection, name: &str) -> Result<Option<user::Model>, DbErr> {
    if let Some(user) = user::Entity::find().filter(user::Column::Username.eq(name)).one(db).await? {
        return Ok(Some(user));
    }
    user::Entity::find().filter(user::Column::Mobile.eq(name)).one(db).await
}

/// `POST /login/`: the user for these credentials. Every attempt is counted, before the password
/// is checked, per client address and per account (the user, however it is named: username and
/// mobile share one budget; an unknown name is its own subject); a successful attempt is not
/// kept. Either budget spent means 429, even for a correct password.
pub async fn login(state: &AppState, form: LoginForm, client: &str) -> Result<user::Model, AccountError> {
    let LoginForm { username, password } = form;
    let found = find_by_username_or_mobile(&state.db, &username).await?;
    let account = match &found {
        Some(user) => format!("user:{}", user.id),
        None => format!("name:{}", username.to_lowercase()),
    };
    let address_hit = LOGIN_ADDRESS_LIMIT.take(&state.db, state.clock.as_ref(), client).await?;
    let account_hit = match LOGIN_ACCOUNT_LIMIT.take(&state.db, state.clock.as_ref(), &account).await {
        Ok(hit) => hit,
        Err(refused) => {
            // Not tried: this attempt does not count against the address either.
            address_hit.give_back(&state.db).await?;
            return Err(refused.into());
        }
    };

    let verdict = match &found {
        Some(user) => passwords::verify_blocking(password.clone(), user.password.clone()).await,
        // Spend the same time on unknown names, so timing does not reveal which exist.
        None => passwords::verify_nobody_blocking(password.clone()).await,
    };
    let verdict = match verdict {
        Ok(verdict) => verdict,
        Err(error) => {
            // Not checked (overloaded): the attempt does not count.
            address_hit.give_back(&state.db).await?;
            account_hit.give_back(&state.db).await?;
            return Err(error.into());
        }
    };
    let user = match (found, verdict) {
        (Some(mut user), Verdict::Valid | Verdict::ValidNeedsRehash) if user.is_active => {
            if verdict == Verdict::ValidNeedsRehash {
                // The token issued below names the new hash.
                user.password = rehash(&state.db, &user, password).await?;
                state.users.forget(user.id);
            }
            user
        }
        _ => return Err(AccountError::field("non_field_errors", messages::BAD_CREDENTIALS)),
    };
    address_hit.give_back(&state.db).await?;
    account_hit.give_back(&state.db).await?;
    user::Entity::update_many()
        .col_expr(user::Column::LastLogin, Expr::value(now_utc()))
        .filter(user::Column::Id.eq(user.id))
        .exec(&state.db)
        .await?;
    Ok(user)
}

/// Replaces a legacy (Django PBKDF2) hash with Argon2id, unless the password changed meanwhile;
/// the hash now stored.
async fn rehash(db: &DatabaseConnection, user: &user::Model, password: String) -> Result<String, AccountError> {
    let hash = passwords::hash_blocking(password).await?;
    let updated = user::Entity::update_many()
        .col_expr(user::Column::Password, Expr::value(hash.as_str()))
        .filter(user::Column::Id.eq(user.id))
        .filter(user::Column::Password.eq(user.password.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        // Changed meanwhile: the login is for the password it was checked against, so the token
        // must not outlive that change.
        return Err(AccountError::field("non_field_errors", messages::BAD_CREDENTIALS));
    }
    tracing::info!(user_id = user.id, "rehashed a legacy password with Argon2id");
    Ok(hash)
}

/// The signed-in user's new password, confirmed with the current one. The stored hash changes,
/// so every login token issued before (they carry its version) stops working. The update is
/// conditional on the hash that was checked, so two changes at once cannot both win.
pub async fn change_password(
    db: &DatabaseConnection,
    cache: &UserCache,
    user: &user::Model,
    mut draft: Draft<PasswordChangeFields>,
) -> Result<(), AccountError> {
    if let Some(old) = &draft.fields.old_password
        && draft.fields.new_password_sent
    {
        let verdict = passwords::verify_blocking(old.clone(), user.password.clone()).await?;
        if !matches!(verdict, Verdict::Valid | Verdict::ValidNeedsRehash) {
            draft.refuse("old_password", messages::WRONG_PASSWORD);
        }
    }
    let form = draft.finish(PasswordChangeForm::complete)?;
    let hash = passwords::hash_blocking(form.new_password.into_inner()).await?;
    let updated = user::Entity::update_many()
        .col_expr(user::Column::Password, Expr::value(hash))
        .filter(user::Column::Id.eq(user.id))
        .filter(user::Column::Password.eq(user.password.as_str()))
        .exec(db)
        .await?;
    cache.forget(user.id);
    if updated.rows_affected == 0 {
        return Err(AccountError::field("old_password", messages::WRONG_PASSWORD));
    }
    tracing::info!(user_id = user.id, "password changed; earlier sessions revoked");
    Ok(())
}

/// Ends every session of the user: the session epoch moves on (one single-column increment), so
/// every login token issued before, copied cookies and Bearer tokens alike, stops matching.
pub async fn end_sessions(db: &DatabaseConnection, cache: &UserCache, user_id: i32) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::SessionEpoch, Expr::col(user::Column::SessionEpoch).add(1))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    cache.forget(user_id);
    tracing::info!(user_id, "logged out; every session revoked");
    Ok(())
}

/// `PATCH`/`PUT /users/{any}/` on the authenticated user: `username`, `gender`, `birthday`,
/// `email`; `mobile` is read-only (it is the login identity).
pub async fn update_profile(
    db: &DatabaseConnection,
    cache: &UserCache,
    user: user::Model,
    mut draft: Draft<ProfileForm>,
) -> Result<user::Model, AccountError> {
    if let Some(name) = &draft.fields.username {
        let name = name.as_str();
        if Mobile::parse(name).is_ok() && user.mobile.as_deref() != Some(name) {
            // A login name that looks like a mobile would capture logins by that mobile and block
            // its owner's registration.
            draft.refuse("username", messages::USERNAME_IS_A_MOBILE);
        } else if name != user.username && username_taken(db, name, user.id).await? {
            draft.refuse("username", messages::USERNAME_TAKEN);
        }
    }
    let form = draft.finish(Some)?;
    let id = user.id;
    let mut active = user.into_active_model();
    if let Some(name) = form.username {
        active.username = Set(name.into_inner());
    }
    if let Some(gender) = form.gender {
        active.gender = Set(gender.to_owned());
    }
    if let Some(birthday) = form.birthday {
        active.birthday = Set(birthday);
    }
    if let Some(email) = form.email {
        active.email = Set(email);
    }
    let updated = active.update(db).await;
    cache.forget(id);
    match updated {
        Ok(user) => Ok(user),
        Err(error) if crate::db::is_unique_violation(&error) => {
            Err(AccountError::field("username", messages::USERNAME_TAKEN))
        }
        Err(error) => {
            tracing::error!(user_id = id, "profile update failed");
            Err(error.into())
        }
    }
}

async fn username_taken(db: &DatabaseConnection, name: &str, except: i32) -> Result<bool, DbErr> {
    let other = user::Entity::find()
        .filter(Condition::all().add(user::Column::Username.eq(name)).add(user::Column::Id.ne(except)))
        .one(db)
        .await?;
    Ok(other.is_some())
}

/// `mxshop user create`: a user with a checked password; the mobile is optional.
pub async fn create_user(
    db: &DatabaseConnection,
    username: &str,
    mobile: Option<&str>,
    password: String,
    superuser: bool,
) -> anyhow::Result<user::Model> {
    let password = Password::parse(password).map_err(|problem| anyhow::anyhow!("{problem}"))?;
    if let Some(mobile) = mobile {
        Mobile::parse(mobile).map_err(|problem| anyhow::anyhow!("{problem}: {mobile}"))?;
    }
    anyhow::ensure!(find_by_username_or_mobile(db, username).await?.is_none(), "a user named {username} exists");
    let hash = passwords::hash_blocking(password.into_inner()).await?;
    let user = user::Entity::insert(new_user(username, hash, mobile.map(str::to_owned), superuser))
        .exec_with_returning(db)
        .await?;
    Ok(user)
}

/// `mxshop user set-password`.
pub async fn set_password(db: &DatabaseConnection, username: &str, password: String) -> anyhow::Result<()> {
    let password = Password::parse(password).map_err(|problem| anyhow::anyhow!("{problem}"))?;
    let user =
        find_by_username_or_mobile(db, username).await?.ok_or_else(|| anyhow::anyhow!("no user named {username}"))?;
    let hash = passwords::hash_blocking(password.into_inner()).await?;
    user::Entity::update_many()
        .col_expr(user::Column::Password, Expr::value(hash))
        .filter(user::Column::Id.eq(user.id))
        .exec(db)
        .await?;
    Ok(())
}
