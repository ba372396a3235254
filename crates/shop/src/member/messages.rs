//! Leaving messages (`/messages/`) with an uploaded file. Uploads are capped, checked against an
//! extension allow-list, stored under random names in `media/message/images/`, and served only
//! as downloads (see `web`).

use std::path::Path;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use serde::Serialize;

use crate::clock::format_minutes;
use crate::db;
use crate::db::entities::user_message;
use crate::http::auth::CurrentUser;
use crate::http::body::{Payload, Upload};
use crate::http::fields::{Fields, Text};
use crate::http::{ApiError, ApiResult, FieldErrors, Lookup, RequestUrl};
use crate::state::AppState;
use crate::throttle::Limit;

/// Where uploads go, relative to the media directory.
pub const UPLOAD_DIR: &str = "message/images";
/// Longest message text, in characters.
pub const MESSAGE_MAX_CHARS: usize = 5000;
/// The period the per-user upload quotas (`upload_daily_count`, `upload_daily_bytes`) cover.
const QUOTA_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The answer when a day's uploads would exceed `upload_daily_bytes`.
pub const DAILY_BYTES_SPENT: &str = "今日上传的文件已超过总大小上限。";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageJson {
    pub message_type: i16,
    pub subject: String,
    pub message: String,
    pub file: Option<String>,
    pub id: i32,
    pub add_time: String,
}

impl MessageJson {
    pub fn new(row: &user_message::Model, url: &RequestUrl) -> Self {
        Self {
            message_type: row.message_type,
            subject: row.subject.clone(),
            message: row.message.clone(),
            file: url.media(Some(&row.file)),
            id: row.id,
            add_time: format_minutes(row.add_time),
        }
    }
}

/// `GET /messages/`
#[utoipa::path(
    summary = "The caller's messages",
    get, path = "/messages/", tag = "member", security(("jwt" = [])),
    responses((status = 200, description = "The caller's messages", body = Vec<MessageJson>), crate::openapi::answers::NotAuthenticated)
)]
pub async fn list_messages(
    State(state): State<AppState>,
    url: RequestUrl,
    user: CurrentUser,
) -> ApiResult<Json<Vec<MessageJson>>> {
    let rows = list(&state.db, user.id()).await?;
    Ok(Json(rows.iter().map(|row| MessageJson::new(row, &url)).collect()))
}

/// The user's messages, oldest first.
pub async fn list(db: &DatabaseConnection, user_id: i32) -> Result<Vec<user_message::Model>, DbErr> {
    user_message::Entity::find()
        .filter(user_message::Column::UserId.eq(user_id))
        .order_by_asc(user_message::Column::Id)
        .all(db)
        .await
}

/// The extension of an uploaded name, lower case, if it has one.
fn extension(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let (stem, ext) = base.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// `POST /messages/` (multipart: `file`, `subject`, `message`, `message_type`)
#[utoipa::path(
    summary = "Leave a message (with a file)",
    post, path = "/messages/", tag = "member", security(("jwt" = [])), request_body(content((crate::openapi::bodies::NewMessage = "application/json"), (crate::openapi::bodies::NewMessage = "application/x-www-form-urlencoded"), (crate::openapi::bodies::NewMessage = "multipart/form-data"))),
    responses((status = 201, description = "The message", body = MessageJson), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated, crate::openapi::answers::Throttled)
)]
pub async fn create_message(
    State(state): State<AppState>,
    url: RequestUrl,
    user: CurrentUser,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<MessageJson>)> {
    let form = MessageForm::read(&payload, &state.config.upload_extensions)?;
    let row = leave(&state, user.id(), form).await?;
    Ok((StatusCode::CREATED, Json(MessageJson::new(&row, &url))))
}

/// `POST /messages/`: the message, its type and its file (with an extension the shop accepts).
pub struct MessageForm<'a> {
    message_type: i16,
    subject: String,
    message: String,
    file: &'a Upload,
    extension: String,
}

impl<'a> MessageForm<'a> {
    /// `allowed`: the file extensions the shop accepts (`upload_extensions`).
    pub fn read(payload: &'a Payload, allowed: &[String]) -> Result<Self, FieldErrors> {
        let mut fields = Fields::new(payload, false);
        let message_type = fields.choice("message_type", false, &["1", "2", "3", "4", "5"]).unwrap_or("1");
        let subject = fields.text("subject", Text::optional(100).blank_ok()).flatten().unwrap_or_default();
        let message =
            fields.text("message", Text::optional(MESSAGE_MAX_CHARS).blank_ok()).flatten().unwrap_or_default();
        let upload = fields.file("file");
        let ext = upload.and_then(|upload| extension(&upload.file_name));
        if upload.is_some() && !ext.as_ref().is_some_and(|ext| allowed.contains(ext)) {
            fields.error(
                "file",
                format!("不支持的文件类型 “{}”。允许的类型：{}。", ext.as_deref().unwrap_or(""), allowed.join(", ")),
            );
        }
        match (upload, ext) {
            (Some(file), Some(extension)) if fields.errors.is_empty() => {
                Ok(Self { message_type: message_type.parse().unwrap_or(1), subject, message, file, extension })
            }
            (Some(_), None) if fields.errors.is_empty() => Err(FieldErrors::single("file", "文件缺少扩展名。")),
            _ => Err(fields.errors),
        }
    }
}

/// Leaves the user's message: its file is stored under a random name, within the user's daily
/// upload count and bytes; nothing is half-written when it fails.
pub async fn leave(state: &AppState, user_id: i32, form: MessageForm<'_>) -> ApiResult<user_message::Model> {
    let uploads = Limit { scope: "upload-user", max: state.config.upload_daily_count, window: QUOTA_WINDOW };
    let counted = uploads.take(&state.db, state.clock.as_ref(), &user_id.to_string()).await?;

    // A random name: nothing of the client's name reaches the file system.
    let mut random = [0u8; 16];
    aws_lc_rs::rand::fill(&mut random).map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    let name = format!("{UPLOAD_DIR}/{}.{}", hex::encode(random), form.extension);
    let path = state.config.media_dir().join(&name);
    let row = user_message::ActiveModel {
        user_id: Set(user_id),
        message_type: Set(form.message_type),
        subject: Set(form.subject),
        message: Set(form.message),
        file: Set(name),
        add_time: Set(state.clock.now()),
        ..Default::default()
    };
    // Under the user's lock, so that parallel uploads cannot all pass the byte quota.
    let txn = state.db.begin().await?;
    let stored = store_upload(state, &txn, user_id, row, &path, &form.file.bytes).await;
    match db::finish(txn, stored).await {
        Ok(row) => Ok(row),
        Err(error) => {
            // Nothing half-written: the file goes with the failed row, and the upload is not
            // counted.
            let _ = tokio::fs::remove_file(&path).await;
            counted.give_back(&state.db).await?;
            Err(error)
        }
    }
}

/// Checks the day's bytes (measured on the files themselves, 400 beyond the quota), writes the
/// file and inserts its row.
async fn store_upload(
    state: &AppState,
    txn: &DatabaseTransaction,
    user_id: i32,
    row: user_message::ActiveModel,
    path: &Path,
    bytes: &[u8],
) -> ApiResult<user_message::Model> {
    db::lock_user(txn, user_id).await?;
    let since = state.clock.now() - chrono::TimeDelta::from_std(QUOTA_WINDOW).unwrap_or_default();
    let today = user_message::Entity::find()
        .filter(user_message::Column::UserId.eq(user_id))
        .filter(user_message::Column::AddTime.gt(since))
        .all(txn)
        .await?;
    let mut used = bytes.len() as u64;
    for earlier in &today {
        used += tokio::fs::metadata(state.config.media_dir().join(&earlier.file)).await.map_or(0, |meta| meta.len());
    }
    if used > state.config.upload_daily_bytes {
        return Err(ApiError::Validation(FieldErrors::single("file", DAILY_BYTES_SPENT)));
    }
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    }
    tokio::fs::write(path, bytes).await.map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    Ok(user_message::Entity::insert(row).exec_with_returning(txn).await?)
}

/// `DELETE /messages/{id}/`
#[utoipa::path(
    summary = "Delete a message",
    delete, path = "/messages/{id}/", tag = "member", security(("jwt" = [])), params(("id" = i32, Path, description = "message id")),
    responses((status = 204, description = "Deleted"), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn delete_message(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(id): Lookup,
) -> ApiResult<StatusCode> {
    let row = user_message::Entity::find_by_id(id)
        .filter(user_message::Column::UserId.eq(user.id()))
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    user_message::Entity::delete_by_id(row.id).exec(&state.db).await?;
    let path = state.config.media_dir().join(&row.file);
    if let Err(error) = tokio::fs::remove_file(&path).await {
        tracing::warn!(path = %path.display(), %error, "could not remove a deleted message's file");
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::extension;

    #[test]
    fn extensions_from_untrusted_names() {
        assert_eq!(extension("note 1.TXT").as_deref(), Some("txt"));
        assert_eq!(extension("../../x.html").as_deref(), Some("html"));
        assert_eq!(extension("C:\\a\\b.pdf").as_deref(), Some("pdf"));
        assert_eq!(extension(".bashrc"), None);
        assert_eq!(extension("noext"), None);
        assert_eq!(extension("trailing."), None);
    }
}
