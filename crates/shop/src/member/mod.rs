//! The member area (Django app `user_operation`): favourites, leaving messages, addresses. Every
//! query is filtered by the authenticated user, so another user's object is a 404.

mod addresses;
mod favs;
pub mod messages;

use axum::routing::{delete, get};

use crate::http::routes::Routes;

pub fn routes(routes: Routes) -> Routes {
    routes
        .api("/userfavs/", get(favs::list_favs).post(favs::create_fav))
        .api("/userfavs/{id}/", get(favs::get_fav).delete(favs::delete_fav))
        .api("/messages/", get(messages::list_messages).post(messages::create_message))
        .api("/messages/{id}/", delete(messages::delete_message))
        .api("/address/", get(addresses::list_addresses).post(addresses::create_address))
        .api(
            "/address/{id}/",
            get(addresses::get_address)
                .put(addresses::update_address)
                .patch(addresses::update_address)
                .delete(addresses::delete_address),
        )
}
