//! The member area (Django app `user_operation`): favourites, leaving messages, addresses. Every
//! query is filtered by the authenticated user, so another user's object is a 404.

pub(crate) mod addresses;
pub(crate) mod favs;
pub mod messages;

use utoipa_axum::routes;

use crate::http::routes::Routes;

pub fn routes(api: Routes) -> Routes {
    api.api(routes!(favs::list_favs, favs::create_fav))
        .api(routes!(favs::get_fav, favs::delete_fav))
        .api(routes!(messages::list_messages, messages::create_message))
        .api(routes!(messages::delete_message))
        .api(routes!(addresses::list_addresses, addresses::create_address))
        .api(routes!(addresses::get_address, addresses::update_address, addresses::delete_address))
}
