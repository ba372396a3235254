//! The cart's routes (`/shopcarts/`, keyed by goods id): read the body into a form, call the
//! cart's rules (`cart`), answer in the contract's shapes.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::cart::{self, AddToCartForm, QuantityForm};
use crate::catalog::goods::GoodsTexts;
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::{ApiResult, Lookup, RequestUrl};
use crate::state::AppState;

/// A line as written: its goods' id and quantity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CartLineWrite {
    pub nums: i32,
    pub goods: i32,
}

/// `GET /shopcarts/`
#[utoipa::path(
    summary = "The cart",
    get, path = "/shopcarts/", tag = "trade", security(("jwt" = [])),
    responses((status = 200, description = "The cart's lines", body = Vec<cart::CartLineJson>), crate::openapi::answers::NotAuthenticated)
)]
pub async fn list_cart(State(state): State<AppState>, url: RequestUrl, user: CurrentUser) -> ApiResult<Response> {
    let (nums, goods) = cart::lines_with_goods(&state.db, user.id()).await?;
    // The catalogue's JSON for goods it holds exactly as read now, and galleries from it, only if
    // it is held already: a cart never waits for a read.
    let texts = GoodsTexts::current(&state.db, &state.categories, &url, &goods, state.catalogue.held_now()).await?;
    let lines: Vec<(i32, i32)> = goods.iter().map(|goods| goods.id).zip(nums).collect();
    let body = texts.write_wrapped(&lines, "nums")?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `POST /shopcarts/` `{"goods", "nums"}`: adds `nums` to the line (creating it).
#[utoipa::path(
    summary = "Add goods to the cart",
    post, path = "/shopcarts/", tag = "trade", security(("jwt" = [])), request_body(content((crate::openapi::bodies::CartAdd = "application/json"), (crate::openapi::bodies::CartAdd = "application/x-www-form-urlencoded"), (crate::openapi::bodies::CartAdd = "multipart/form-data"))),
    responses((status = 201, description = "The line after adding", body = CartLineWrite), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated)
)]
pub async fn add_to_cart(
    State(state): State<AppState>,
    user: CurrentUser,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<CartLineWrite>)> {
    let form = AddToCartForm::read(&payload)?;
    let goods = form.goods.get();
    let nums = cart::add(&state.db, user.id(), form).await?;
    Ok((StatusCode::CREATED, Json(CartLineWrite { nums, goods })))
}

/// `GET /shopcarts/{goods_id}/`
#[utoipa::path(
    summary = "One cart line",
    get, path = "/shopcarts/{id}/", tag = "trade", security(("jwt" = [])), params(("id" = i32, Path, description = "goods id")),
    responses((status = 200, description = "The line", body = CartLineWrite), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn get_cart_line(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(goods_id): Lookup,
) -> ApiResult<Json<CartLineWrite>> {
    let nums = cart::quantity(&state.db, user.id(), goods_id).await?;
    Ok(Json(CartLineWrite { nums, goods: goods_id }))
}

/// `PATCH`/`PUT /shopcarts/{goods_id}/` `{"nums"}`: sets the line's quantity.
#[utoipa::path(
    summary = "Set a cart line's quantity",
    method(put, patch), path = "/shopcarts/{id}/", tag = "trade", security(("jwt" = [])), params(("id" = i32, Path, description = "goods id")), request_body(content((crate::openapi::bodies::CartSet = "application/json"), (crate::openapi::bodies::CartSet = "application/x-www-form-urlencoded"), (crate::openapi::bodies::CartSet = "multipart/form-data"))),
    responses((status = 200, description = "The line with its new quantity", body = CartLineWrite), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn set_cart_line(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(goods_id): Lookup,
    payload: Payload,
) -> ApiResult<Json<CartLineWrite>> {
    let form = QuantityForm::read(&payload)?;
    cart::set_quantity(&state.db, user.id(), goods_id, form.nums).await?;
    Ok(Json(CartLineWrite { nums: form.nums.get(), goods: goods_id }))
}

/// `DELETE /shopcarts/{goods_id}/`
#[utoipa::path(
    summary = "Remove a cart line",
    delete, path = "/shopcarts/{id}/", tag = "trade", security(("jwt" = [])), params(("id" = i32, Path, description = "goods id")),
    responses((status = 204, description = "Removed"), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn delete_cart_line(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(goods_id): Lookup,
) -> ApiResult<StatusCode> {
    cart::remove(&state.db, user.id(), goods_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
