//! Accounts (Django app `users`): SMS codes, registration, JWT login, the current user's profile.

pub mod codes;
mod handlers;
pub mod passwords;
pub mod sms;
pub mod tokens;
pub mod users;

use axum::routing::{get, post};

use crate::http::routes::Routes;

pub fn routes(routes: Routes) -> Routes {
    routes
        .api("/code/", post(handlers::send_code))
        .api("/users/", post(handlers::register).get(handlers::get_profile))
        .api("/users/{id}/", get(handlers::get_profile).patch(handlers::patch_profile).put(handlers::put_profile))
        .api("/login/", post(handlers::login))
}
