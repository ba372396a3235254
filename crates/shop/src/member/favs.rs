//! Favourites (`/userfavs/`, keyed by goods id). `fav_num` moves with the row, in one transaction,
//! by single-column increments — exact under any concurrency.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;

use crate::catalog::GoodsId;
use crate::catalog::goods::GoodsTexts;
use crate::catalog::render::GoodsJson;
use crate::clock::now_utc;
use crate::db;
use crate::db::entities::{goods, user_fav};
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::fields::{Fields, messages};
use crate::http::{ApiError, ApiResult, FieldErrors, Lookup, RequestUrl};
use crate::state::AppState;

const ALREADY: &str = "已经收藏";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FavDetail {
    pub goods: GoodsJson,
    pub id: i32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Fav {
    pub goods: i32,
    pub id: i32,
}

/// `GET /userfavs/`
#[utoipa::path(
    summary = "The caller's favourites",
    get, path = "/userfavs/", tag = "member", security(("jwt" = [])),
    responses((status = 200, description = "The caller's favourites", body = Vec<FavDetail>), crate::openapi::answers::NotAuthenticated)
)]
pub async fn list_favs(State(state): State<AppState>, url: RequestUrl, user: CurrentUser) -> ApiResult<Response> {
    let favs = read_favs(&state, &user).await?;
    let goods = GoodsTexts::held(state.goods(), &url, favs.iter().map(|&(goods_id, _)| goods_id)).await?;
    // `FavDetail`s, written from each goods' JSON as the goods list is.
    let body = goods.write_wrapped(&favs, "id")?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The user's favourites as (goods id, favourite id), oldest first.
async fn read_favs(state: &AppState, user: &CurrentUser) -> ApiResult<Vec<(i32, i32)>> {
    Ok(user_fav::Entity::find()
        .select_only()
        .columns([user_fav::Column::GoodsId, user_fav::Column::Id])
        .filter(user_fav::Column::UserId.eq(user.id()))
        .order_by_asc(user_fav::Column::Id)
        .into_tuple()
        .all(&state.db)
        .await?)
}

/// The user's favourites with their goods rendered (for the storefront's page).
pub async fn favourites(state: &AppState, url: &RequestUrl, user: &CurrentUser) -> ApiResult<Vec<FavDetail>> {
    let favs = read_favs(state, user).await?;
    let goods = GoodsTexts::held(state.goods(), url, favs.iter().map(|&(goods_id, _)| goods_id)).await?;
    let mut rendered = Vec::with_capacity(favs.len());
    for (goods_id, id) in favs {
        if let Some(goods) = goods.render(goods_id)? {
            rendered.push(FavDetail { goods, id });
        }
    }
    Ok(rendered)
}

/// `POST /userfavs/` `{"goods": id}`
#[utoipa::path(
    summary = "Favourite a goods",
    post, path = "/userfavs/", tag = "member", security(("jwt" = [])), request_body(content((crate::openapi::bodies::NewFav = "application/json"), (crate::openapi::bodies::NewFav = "application/x-www-form-urlencoded"), (crate::openapi::bodies::NewFav = "multipart/form-data"))),
    responses((status = 201, description = "Favourited", body = Fav), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated)
)]
pub async fn create_fav(
    State(state): State<AppState>,
    user: CurrentUser,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<Fav>)> {
    let mut fields = Fields::new(&payload, false);
    let goods = fields.primary_key("goods", true).map(GoodsId::new);
    let goods = fields.finish_with(goods)?;
    let id = add(&state.db, user.id(), goods).await?;
    Ok((StatusCode::CREATED, Json(Fav { goods: goods.get(), id })))
}

/// Makes the goods one of the user's favourites (counted in its `fav_num`); the favourite's id.
pub async fn add(db: &DatabaseConnection, user_id: i32, goods: GoodsId) -> ApiResult<i32> {
    let goods_id = goods.get();
    let already = || ApiError::Validation(FieldErrors::single("non_field_errors", ALREADY));
    let txn = db.begin().await?;
    let result = async {
        // The goods row is locked (and counted) first: every favourite change takes its locks in
        // the same order, so concurrent ones queue instead of deadlocking on MySQL, where the
        // insert's foreign-key check would otherwise share-lock the row before the update.
        let counted = goods::Entity::update_many()
            .col_expr(goods::Column::FavNum, Expr::col(goods::Column::FavNum).add(1))
            .filter(goods::Column::Id.eq(goods_id))
            .exec(&txn)
            .await?;
        if counted.rows_affected == 0 {
            return Err(ApiError::Validation(FieldErrors::single("goods", messages::does_not_exist(goods_id))));
        }
        let inserted = user_fav::Entity::insert(user_fav::ActiveModel {
            user_id: Set(user_id),
            goods_id: Set(goods_id),
            add_time: Set(now_utc()),
            ..Default::default()
        })
        .exec(&txn)
        .await;
        match inserted {
            Ok(result) => Ok(result.last_insert_id),
            Err(error) if crate::db::is_unique_violation(&error) => Err(already()),
            Err(error) => Err(error.into()),
        }
    }
    .await;
    db::finish(txn, result).await
}

/// `GET /userfavs/{goods_id}/`: 200 when favourited, 404 otherwise.
#[utoipa::path(
    summary = "Is this goods a favourite?",
    get, path = "/userfavs/{id}/", tag = "member", security(("jwt" = [])), params(("id" = i32, Path, description = "goods id")),
    responses((status = 200, description = "The goods is a favourite", body = Fav), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn get_fav(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(goods_id): Lookup,
) -> ApiResult<Json<Fav>> {
    let fav = user_fav::Entity::find()
        .filter(user_fav::Column::UserId.eq(user.id()))
        .filter(user_fav::Column::GoodsId.eq(goods_id))
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(Fav { goods: fav.goods_id, id: fav.id }))
}

/// `DELETE /userfavs/{goods_id}/`
#[utoipa::path(
    summary = "Unfavourite a goods",
    delete, path = "/userfavs/{id}/", tag = "member", security(("jwt" = [])), params(("id" = i32, Path, description = "goods id")),
    responses((status = 204, description = "No longer a favourite"), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn delete_fav(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(goods_id): Lookup,
) -> ApiResult<StatusCode> {
    remove(&state.db, user.id(), goods_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes the goods out of the user's favourites (and its `fav_num`); `NotFound` if it was not one.
pub async fn remove(db: &DatabaseConnection, user_id: i32, goods_id: i32) -> ApiResult<()> {
    let txn = db.begin().await?;
    let result = async {
        // Lock the goods row before the favourite, in the same order as `create_fav`. A no-op
        // update locks it on every database (on SQLite it takes the write lock up front).
        goods::Entity::update_many()
            .col_expr(goods::Column::FavNum, Expr::col(goods::Column::FavNum))
            .filter(goods::Column::Id.eq(goods_id))
            .exec(&txn)
            .await?;
        let deleted = user_fav::Entity::delete_many()
            .filter(user_fav::Column::UserId.eq(user_id))
            .filter(user_fav::Column::GoodsId.eq(goods_id))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(ApiError::NotFound);
        }
        goods::Entity::update_many()
            .col_expr(goods::Column::FavNum, Expr::col(goods::Column::FavNum).sub(1))
            .filter(goods::Column::Id.eq(goods_id))
            .filter(goods::Column::FavNum.gt(0))
            .exec(&txn)
            .await?;
        Ok(())
    }
    .await;
    db::finish(txn, result).await
}
