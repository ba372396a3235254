//! Accounts (Django app `users`): SMS codes, registration, JWT login, the current user's profile.

pub mod codes;
pub(crate) mod handlers;
pub mod passwords;
pub mod sms;
pub mod tokens;
pub mod user_cache;
pub mod users;

use utoipa_axum::routes;

use crate::http::routes::Routes;

pub fn routes(api: Routes) -> Routes {
    api.api(routes!(handlers::send_code))
        .api(routes!(handlers::register, handlers::get_own_profile))
        .api(routes!(handlers::get_profile, handlers::patch_profile, handlers::put_profile))
        .api(routes!(handlers::login))
}
