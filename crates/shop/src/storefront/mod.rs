//! The built-in storefront: server-rendered pages at `/shop/` (and at `/` when no Vue front end
//! is installed) for people without the VueShop bundle. Pages call the same forms and services
//! as the API handlers; sessions are cookies carrying the API's login token, and every form that changes
//! something carries a CSRF token (see `session`).

mod account;
mod cart;
mod catalog;
mod member;
mod session;
mod trade;
mod view;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use axum::routing::{get, post};

use crate::http::conventions::page_security_headers;
use crate::http::routes::Routes;
use crate::state::AppState;

pub use catalog::home_page;
pub use session::Visitor;
pub use view::Page;

/// Outside the whole-body limit, which answers 413 before any handler runs when the length is
/// known (a browser always sends it): a storefront form over the limit gets the layout's page
/// instead of the API's JSON. Nothing was read, so nothing changed.
pub async fn body_limit_page(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/shop/") {
        return next.run(request).await;
    }
    // What the page needs to know its visitor (cookies, user agent); the body goes on.
    let (mut probe, ()) = Request::new(()).into_parts();
    probe.uri = request.uri().clone();
    probe.headers = request.headers().clone();
    let response = next.run(request).await;
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    let visitor = match Visitor::from_request_parts(&mut probe, &state).await {
        Ok(visitor) => visitor,
        Err(page) => return page,
    };
    let limit = crate::http::body::human_size(state.config.body_limit_bytes);
    view::message(
        &state,
        &visitor,
        StatusCode::PAYLOAD_TOO_LARGE,
        "无法完成",
        vec![format!("提交的内容太大（最多 {limit}），请缩小文件或内容后重试。")],
    )
}

pub fn routes(routes: Routes) -> Routes {
    let page =
        |methods: axum::routing::MethodRouter<crate::state::AppState>| methods.layer(from_fn(page_security_headers));
    routes
        .page("/shop/", page(get(catalog::home_page)))
        .page("/shop/assets/{name}", get(catalog::asset))
        .page("/shop/category/{id}/", page(get(catalog::category_page)))
        .page("/shop/search/", page(get(catalog::search_page)))
        .page("/shop/goods/{id}/", page(get(catalog::goods_page)))
        .page("/shop/login/", page(get(account::login_page).post(account::login)))
        .page("/shop/logout/", page(post(account::logout)))
        .page("/shop/register/", page(get(account::register_page).post(account::register)))
        .page("/shop/register/code/", page(post(account::send_code)))
        .page("/shop/profile/", page(get(account::profile_page).post(account::update_profile)))
        .page("/shop/profile/password/", page(post(account::change_password)))
        .page("/shop/cart/", page(get(cart::cart_page)))
        .page("/shop/cart/add/", page(post(cart::add_to_cart)))
        .page("/shop/cart/{id}/", page(post(cart::set_quantity)))
        .page("/shop/cart/{id}/remove/", page(post(cart::remove_line)))
        .page("/shop/checkout/", page(get(trade::checkout_page).post(trade::checkout)))
        .page("/shop/orders/", page(get(trade::orders_page)))
        .page("/shop/orders/{id}/", page(get(trade::order_page)))
        .page("/shop/orders/{id}/pay/", page(get(trade::pay_order)))
        .page("/shop/orders/{id}/cancel/", page(post(trade::cancel_order)))
        .page("/shop/alipay/return/", page(get(trade::alipay_return)))
        .page("/shop/favs/", page(get(member::favs_page)))
        .page("/shop/favs/{id}/", page(post(member::toggle_fav)))
        .page("/shop/messages/", page(get(member::messages_page).post(member::leave_message)))
        .page("/shop/addresses/", page(get(member::addresses_page).post(member::create_address)))
        .page("/shop/addresses/{id}/delete/", page(post(member::delete_address)))
}
