//! The trade (Django app `trade`): the cart and orders.

mod cart;
pub mod lifecycle;
pub mod order_sn;
pub mod orders;
mod render;
pub mod status;
pub mod stock;

use axum::routing::get;

use crate::http::routes::Routes;

pub fn routes(routes: Routes) -> Routes {
    routes
        .api("/shopcarts/", get(cart::list_cart).post(cart::add_to_cart))
        .api(
            "/shopcarts/{id}/",
            get(cart::get_cart_line).patch(cart::set_cart_line).put(cart::set_cart_line).delete(cart::delete_cart_line),
        )
        .api("/orders/", get(orders::list_orders).post(orders::create_order))
        .api("/orders/{id}/", get(orders::get_order).delete(orders::delete_order))
}
