//! Shipping addresses (`/address/`): every field optional (default `""`) but never blank when
//! sent.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::clock::{format_minutes, now_utc};
use crate::db::entities::user_address;
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::fields::{Fields, Text};
use crate::http::{ApiError, ApiResult, FieldErrors, Lookup};
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AddressJson {
    pub id: i32,
    pub province: String,
    pub city: String,
    pub district: String,
    pub address: String,
    pub signer_name: String,
    pub add_time: String,
    pub signer_mobile: String,
}

impl From<&user_address::Model> for AddressJson {
    fn from(row: &user_address::Model) -> Self {
        Self {
            id: row.id,
            province: row.province.clone(),
            city: row.city.clone(),
            district: row.district.clone(),
            address: row.address.clone(),
            signer_name: row.signer_name.clone(),
            add_time: format_minutes(row.add_time),
            signer_mobile: row.signer_mobile.clone(),
        }
    }
}

/// `POST /address/`, `PUT`/`PATCH /address/{id}/`: the address fields that were sent, each at
/// most its length and not blank (a new address has `""` for the others; a change leaves them).
#[derive(Debug, Default, utoipa::ToSchema)]
#[schema(as = Address, example = json!({"province": "北京市", "city": "北京市", "district": "海淀区", "address": "中关村大街 1 号", "signer_name": "张三", "signer_mobile": "13800138000"}))]
pub struct AddressForm {
    #[schema(nullable = false, max_length = 100)]
    pub province: Option<String>,
    #[schema(nullable = false, max_length = 100)]
    pub city: Option<String>,
    #[schema(nullable = false, max_length = 100)]
    pub district: Option<String>,
    /// The street line.
    #[schema(nullable = false, max_length = 100)]
    pub address: Option<String>,
    #[schema(nullable = false, max_length = 100)]
    pub signer_name: Option<String>,
    #[schema(nullable = false, max_length = 11)]
    pub signer_mobile: Option<String>,
}

impl AddressForm {
    /// `partial` for PUT and PATCH: the fields not sent stay as they are.
    pub fn read(payload: &Payload, partial: bool) -> Result<Self, FieldErrors> {
        let mut fields = Fields::new(payload, partial);
        let mut text = |name: &str, max: usize| fields.text(name, Text::optional(max)).flatten();
        let form = Self {
            province: text("province", 100),
            city: text("city", 100),
            district: text("district", 100),
            address: text("address", 100),
            signer_name: text("signer_name", 100),
            signer_mobile: text("signer_mobile", 11),
        };
        if fields.errors.is_empty() { Ok(form) } else { Err(fields.errors) }
    }

    /// The fields sent, set on `row`; whether there was any.
    fn apply(self, row: &mut user_address::ActiveModel) -> bool {
        let sent = [
            (self.province, &mut row.province),
            (self.city, &mut row.city),
            (self.district, &mut row.district),
            (self.address, &mut row.address),
            (self.signer_name, &mut row.signer_name),
            (self.signer_mobile, &mut row.signer_mobile),
        ];
        let mut any = false;
        for (value, column) in sent {
            if let Some(value) = value {
                *column = Set(value);
                any = true;
            }
        }
        any
    }
}

/// The user's address `id`.
async fn owned(db: &DatabaseConnection, user_id: i32, id: i32) -> ApiResult<user_address::Model> {
    user_address::Entity::find_by_id(id)
        .filter(user_address::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The user's addresses, oldest first.
pub async fn list(db: &DatabaseConnection, user_id: i32) -> Result<Vec<user_address::Model>, DbErr> {
    user_address::Entity::find()
        .filter(user_address::Column::UserId.eq(user_id))
        .order_by_asc(user_address::Column::Id)
        .all(db)
        .await
}

/// A new address of the user: the fields sent, `""` for the others.
pub async fn create(db: &DatabaseConnection, user_id: i32, form: AddressForm) -> Result<user_address::Model, DbErr> {
    let mut row = user_address::ActiveModel {
        user_id: Set(user_id),
        province: Set(String::new()),
        city: Set(String::new()),
        district: Set(String::new()),
        address: Set(String::new()),
        signer_name: Set(String::new()),
        signer_mobile: Set(String::new()),
        add_time: Set(now_utc()),
        ..Default::default()
    };
    form.apply(&mut row);
    user_address::Entity::insert(row).exec_with_returning(db).await
}

/// `GET /address/`
#[utoipa::path(
    summary = "The caller's addresses",
    get, path = "/address/", tag = "member", security(("jwt" = [])),
    responses((status = 200, description = "The caller's addresses", body = Vec<AddressJson>), crate::openapi::answers::NotAuthenticated)
)]
pub async fn list_addresses(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Vec<AddressJson>>> {
    let rows = list(&state.db, user.id()).await?;
    Ok(Json(rows.iter().map(AddressJson::from).collect()))
}

/// `POST /address/`
#[utoipa::path(
    summary = "Add an address",
    post, path = "/address/", tag = "member", security(("jwt" = [])), request_body(content((AddressForm = "application/json"), (AddressForm = "application/x-www-form-urlencoded"), (AddressForm = "multipart/form-data"))),
    responses((status = 201, description = "The address", body = AddressJson), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated)
)]
pub async fn create_address(
    State(state): State<AppState>,
    user: CurrentUser,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<AddressJson>)> {
    let row = create(&state.db, user.id(), AddressForm::read(&payload, false)?).await?;
    Ok((StatusCode::CREATED, Json(AddressJson::from(&row))))
}

/// `GET /address/{id}/`
#[utoipa::path(
    summary = "One address",
    get, path = "/address/{id}/", tag = "member", security(("jwt" = [])), params(("id" = i32, Path, description = "address id")),
    responses((status = 200, description = "The address", body = AddressJson), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn get_address(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(id): Lookup,
) -> ApiResult<Json<AddressJson>> {
    Ok(Json(AddressJson::from(&owned(&state.db, user.id(), id).await?)))
}

/// `PUT` and `PATCH /address/{id}/`: the fields sent are changed; `id` and `add_time` are ignored.
#[utoipa::path(
    summary = "Change an address",
    method(put, patch), path = "/address/{id}/", tag = "member", security(("jwt" = [])), params(("id" = i32, Path, description = "address id")), request_body(content((AddressForm = "application/json"), (AddressForm = "application/x-www-form-urlencoded"), (AddressForm = "multipart/form-data"))),
    responses((status = 200, description = "The changed address (the fields sent change)", body = AddressJson), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn update_address(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(id): Lookup,
    payload: Payload,
) -> ApiResult<Json<AddressJson>> {
    let row = owned(&state.db, user.id(), id).await?;
    let form = AddressForm::read(&payload, true)?;
    let mut active = row.clone().into_active_model();
    if !form.apply(&mut active) {
        return Ok(Json(AddressJson::from(&row)));
    }
    let row = active.update(&state.db).await?;
    Ok(Json(AddressJson::from(&row)))
}

/// `DELETE /address/{id}/`
#[utoipa::path(
    summary = "Delete an address",
    delete, path = "/address/{id}/", tag = "member", security(("jwt" = [])), params(("id" = i32, Path, description = "address id")),
    responses((status = 204, description = "Deleted"), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn delete_address(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(id): Lookup,
) -> ApiResult<StatusCode> {
    delete(&state.db, user.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the user's address `id`.
pub async fn delete(db: &DatabaseConnection, user_id: i32, id: i32) -> ApiResult<()> {
    let deleted = user_address::Entity::delete_many()
        .filter(user_address::Column::Id.eq(id))
        .filter(user_address::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(())
}
