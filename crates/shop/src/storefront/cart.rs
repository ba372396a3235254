//! The cart pages: lines with the server's prices and their total, add, change, remove. Every
//! change goes through the API's own cart forms and rules (`trade::cart`).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::session::Visitor;
use super::view::{self, Chrome, FormErrors, Page, Submitted};
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::{ApiError, Lookup, RequestUrl};
use crate::money::Money;
use crate::state::AppState;
use crate::trade::cart::{self, AddToCartForm, CartError, CartLineJson, QuantityForm};

/// The cart's lines and their total, computed here from the server's prices.
pub(super) async fn cart_lines(
    state: &AppState,
    url: &RequestUrl,
    user: &CurrentUser,
) -> Result<(Vec<CartLineJson>, Money), ApiError> {
    let lines = cart::cart_lines(state, url, user.id()).await?;
    let mut total = Money::from_fen(0);
    for line in &lines {
        total = total
            .checked_add_times(line.goods.shop_price, line.nums)
            .ok_or_else(|| anyhow::anyhow!("cart total overflows"))?;
    }
    Ok((lines, total))
}

#[derive(Template)]
#[template(path = "storefront/cart.html")]
struct CartPage {
    chrome: Chrome,
    lines: Vec<CartLineJson>,
    total: Money,
    /// The line an error is about, and the error.
    line_error: Option<(i32, String)>,
}

impl CartPage {
    fn subtotal(&self, line: &CartLineJson) -> Money {
        Money::from_fen(0).checked_add_times(line.goods.shop_price, line.nums).unwrap_or_default()
    }
}

async fn cart_view(
    state: &AppState,
    visitor: &Visitor,
    url: &RequestUrl,
    status: StatusCode,
    line_error: Option<(i32, String)>,
) -> Response {
    let Some(user) = visitor.current_user() else { return view::to_login(visitor, "/shop/cart/") };
    match cart_lines(state, url, &user).await {
        Ok((lines, total)) => {
            let page = CartPage { chrome: Chrome::new(visitor, state), lines, total, line_error };
            view::page(state, visitor, status, &page)
        }
        Err(error) => view::failure(state, visitor, error),
    }
}

/// `GET /shop/cart/`
pub async fn cart_page(Page { state, visitor, url }: Page) -> Response {
    cart_view(&state, &visitor, &url, StatusCode::OK, None).await
}

/// `POST /shop/cart/add/` (`goods`, `nums`): `POST /shopcarts/`. An error is shown on the goods
/// page, next to the quantity.
pub async fn add_to_cart(Page { state, visitor, url }: Page, form: Submitted) -> Result<Response, view::Early> {
    let goods_id = form.as_ref().ok().and_then(|form| form.text("goods")?.parse::<i32>().ok());
    let back = goods_id.map_or_else(|| "/shop/".to_owned(), |id| format!("/shop/goods/{id}/"));
    let (user, form) = view::signed_in_form(&state, &visitor, form, &back).await?;
    let added = match AddToCartForm::read(&form) {
        Ok(add) => cart::add(&state.db, user.id(), add).await.map_err(ApiError::from),
        Err(errors) => Err(errors.into()),
    };
    Ok(match added {
        Ok(_) => view::redirect(&visitor, "/shop/cart/", None),
        Err(error) => match (view::form_errors(error, &["nums"]), goods_id) {
            (Ok(errors), Some(id)) => super::catalog::goods_view(&state, &visitor, &url, id, errors).await,
            (Ok(errors), None) => {
                view::message(&state, &visitor, StatusCode::BAD_REQUEST, "无法加入购物车", errors.all())
            }
            (Err(error), _) => view::failure(&state, &visitor, error),
        },
    })
}

/// `POST /shop/cart/{goods}/` (`nums`): `PUT /shopcarts/{goods}/`.
pub async fn set_quantity(
    Page { state, visitor, url }: Page,
    lookup: Lookup,
    form: Submitted,
) -> Result<Response, view::Early> {
    let (user, form) = view::signed_in_form(&state, &visitor, form, "/shop/cart/").await?;
    let result = match QuantityForm::read(&form) {
        Ok(set) => cart::set_quantity(&state.db, user.id(), lookup.0, set.nums).await,
        Err(errors) => Err(errors.into()),
    };
    let done = |_| view::redirect(&visitor, "/shop/cart/", None);
    // `again` moves copies of these references in; `view::answer` still uses them.
    let (state, visitor, url) = (&state, &visitor, &url);
    let again = move |_: Payload, status, errors: FormErrors| async move {
        cart_view(state, visitor, url, status, Some((lookup.0, errors.all().join(" ")))).await
    };
    Ok(view::answer((state, visitor), form, result, &["nums"], done, again).await)
}

/// `POST /shop/cart/{goods}/remove/`: `DELETE /shopcarts/{goods}/`.
pub async fn remove_line(
    Page { state, visitor, .. }: Page,
    lookup: Lookup,
    form: Submitted,
) -> Result<Response, view::Early> {
    let (user, _) = view::signed_in_form(&state, &visitor, form, "/shop/cart/").await?;
    Ok(match cart::remove(&state.db, user.id(), lookup.0).await {
        // Already gone (a second click): the cart shows what is left.
        Ok(()) | Err(CartError::NoLine) => view::redirect(&visitor, "/shop/cart/", None),
        Err(error) => view::failure(&state, &visitor, error.into()),
    })
}
