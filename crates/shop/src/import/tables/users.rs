//! The `users` app: accounts, with their Django password hashes as they are.

use sea_orm::ActiveValue::Set;

use super::{Context, Identity, Mapped, Table, skip};
use crate::db::entities::user;
use crate::import::source::Row;

pub const USERS: Table<user::Entity> = Table {
    name: "users",
    source: "users_userprofile",
    columns: &[
        "id",
        "password",
        "last_login",
        "is_superuser",
        "username",
        "is_staff",
        "is_active",
        "date_joined",
        "name",
        "birthday",
        "gender",
        "mobile",
        "email",
    ],
    map: map_user,
    // A user who has logged in here since has a new hash (and may have changed the password), or
    // logged out everywhere: an import must never bring the old state back.
    kept_on_merge: &["password", "last_login", "session_epoch"],
    write_order: None,
    identity: Identity::unique("username"),
    unique: &["mobile"],
};

fn map_user(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<user::ActiveModel>> {
    const E: &str = "users";
    let username = row.required_text("username")?;
    if username.chars().count() > 150 {
        return skip("username too long", format!("username {username:?} is longer than mxshop's 150 characters"));
    }
    let key = if ctx.usernames_ignore_case { username.to_lowercase() } else { username.clone() };
    if let Some(first) = ctx.imported_usernames.get(&key) {
        return skip(
            "username differs only by case",
            format!(
                "username {username:?} equals user {first}'s but for case, and the target database compares \
                 usernames without case"
            ),
        );
    }
    let password = row.required_text("password")?;
    if password.chars().count() > 255 {
        return skip("password too long", format!("{username}'s password hash is longer than 255 characters"));
    }
    if !password.starts_with("pbkdf2_sha256$") {
        let scheme = password.split('$').next().filter(|s| !s.starts_with('!') && !s.is_empty());
        let why = scheme.map_or("an unusable password (social login or disabled)".to_owned(), |s| {
            format!("a password hashed with {s}, which mxshop does not verify")
        });
        ctx.warn(
            E,
            row.id,
            format!("{username} has {why}; they cannot log in until `mxshop user set-password {username}`"),
        );
    }
    let mut mobile = row.text("mobile")?.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
    if let Some(number) = mobile.take() {
        if number.chars().count() > 11 {
            ctx.warn(
                E,
                row.id,
                format!("{username}'s mobile {number:?} is longer than 11 characters; imported without it"),
            );
        } else if number != username && ctx.usernames.contains(&number) {
            ctx.warn(
                E,
                row.id,
                format!(
                    "{username}'s mobile {number} is another user's username (login tries usernames first); \
                     imported without it (logs in by username)"
                ),
            );
        } else if !ctx.mobiles.insert(number.clone()) {
            ctx.warn(
                E,
                row.id,
                format!("{username}'s mobile {number} belongs to another user too; imported without it (logs in by username)"),
            );
        } else {
            mobile = Some(number);
        }
    }
    let mut gender = row.required_text("gender")?;
    if gender != "male" && gender != "female" {
        ctx.warn(E, row.id, format!("{username}'s gender {gender:?} is neither male nor female; imported as female"));
        gender = "female".into();
    }
    let is_staff = row.flag("is_staff")?;
    let mut is_superuser = row.flag("is_superuser")?;
    if is_staff && !is_superuser {
        ctx.warn(E, row.id, format!("{username} is staff but not a superuser; mxshop has no staff role"));
    }
    // Django lets only staff into its admin: a superuser flag without is_staff gave no power there.
    if is_superuser && !is_staff {
        ctx.warn(E, row.id, format!("{username} is a superuser but not staff; imported as an ordinary user"));
        is_superuser = false;
    }
    let name = row.text("name")?.filter(|name| !name.is_empty()).map(|name| ctx.fit(E, row.id, "name", name, 30));
    let email =
        row.text("email")?.filter(|email| !email.is_empty()).map(|email| ctx.fit(E, row.id, "email", email, 100));
    ctx.users.insert(row.id);
    ctx.imported_usernames.insert(key, row.id);
    if is_superuser {
        ctx.report.superusers.push(super::super::report::Superuser { id: row.id, username: username.clone() });
    }
    Ok(Mapped::Keep(user::ActiveModel {
        id: Set(row.id),
        username: Set(username),
        password: Set(password),
        name: Set(name),
        birthday: Set(row.date("birthday")?),
        gender: Set(gender),
        mobile: Set(mobile),
        email: Set(email),
        is_active: Set(row.flag("is_active")?),
        is_superuser: Set(is_superuser),
        date_joined: Set(ctx.time(E, row, "date_joined")?),
        last_login: Set(row.datetime("last_login")?),
        session_epoch: Set(0),
    }))
}
