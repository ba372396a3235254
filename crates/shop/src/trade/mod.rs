//! The trade (Django app `trade`): the cart and orders.

pub mod cart;
pub(crate) mod cart_handlers;
pub mod checkout;
pub mod lifecycle;
pub mod order_form;
pub(crate) mod order_list;
pub mod order_sn;
pub mod orders;
pub(crate) mod render;
pub mod status;
pub mod stock;

use utoipa_axum::routes;

use crate::http::routes::Routes;

pub fn routes(api: Routes) -> Routes {
    api.api(routes!(cart_handlers::list_cart, cart_handlers::add_to_cart))
        .api(routes!(cart_handlers::get_cart_line, cart_handlers::set_cart_line, cart_handlers::delete_cart_line))
        .api(routes!(orders::list_orders, checkout::create_order))
        .api(routes!(orders::get_order, orders::delete_order))
}
