//! The OpenAPI 3.1 document: paths and response shapes come from the handlers' `#[utoipa::path]`
//! annotations and the types they render (collected by `http::routes::Routes`); this module adds
//! what is shop-wide — title, the JWT scheme, the DRF error shapes — and the request bodies, which
//! handlers read field by field (JSON, form or multipart alike) rather than as one typed struct.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa::{PartialSchema, ToSchema};

/// The name operations use to require a login token.
pub const JWT: &str = "jwt";
/// The scheme of `/metrics`: a static token from the configuration.
pub const METRICS_TOKEN: &str = "metrics_token";

/// Tags, in the order the docs UI lists them.
const TAGS: &[(&str, &str)] = &[
    ("catalog", "Goods, categories, banners, hot searches and the home page sections (anonymous)"),
    ("accounts", "SMS codes, registration, login (JWT) and the profile"),
    ("member", "Favourites, messages with files and addresses"),
    ("trade", "The cart and orders"),
    ("payments", "Alipay notifications, the buyer's return and staff refunds"),
    ("operations", "Liveness, readiness and metrics"),
];

/// The finished document as JSON bytes.
pub fn render(mut document: OpenApi) -> Vec<u8> {
    document.info = InfoBuilder::new()
        .title("mxshop API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The HTTP API of mxshop, compatible with the Django REST framework MxShop backend.\n\n\
             Authenticate with `POST /login/` and send `Authorization: Bearer <token>` (or `JWT <token>`); \
             a token lives `jwt_lifetime_secs` (default one hour). Errors are DRF-shaped: \
             `{\"detail\": …}` or `{\"field\": [messages]}`. Amounts are yuan with at most two decimals; \
             times are Beijing time (`YYYY-MM-DD HH:MM:SS`).",
        ))
        .build();
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        JWT,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("The token from `POST /login/` or `POST /users/`."))
                .build(),
        ),
    );
    components.add_security_scheme(
        METRICS_TOKEN,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The `metrics_token` setting (without it, `/metrics` answers loopback clients only).",
                ))
                .build(),
        ),
    );
    for (name, schema) in [(Detail::name(), Detail::schema()), (FieldErrors::name(), FieldErrors::schema())] {
        components.schemas.insert(name.into_owned(), schema);
    }
    document.tags = Some(
        TAGS.iter()
            .map(|(name, description)| {
                utoipa::openapi::tag::TagBuilder::new().name(*name).description(Some(*description)).build()
            })
            .collect(),
    );
    // Serialising a document of plain maps and strings cannot fail.
    let mut json = serde_json::to_value(&document).unwrap_or_default();
    unique_operation_ids(&mut json);
    serde_json::to_vec(&json).unwrap_or_default()
}

/// One handler serving two methods (`PUT` and `PATCH` of an address) gets one operation id from
/// utoipa; OpenAPI wants each unique, so such ids get the method appended (`update_address_patch`).
fn unique_operation_ids(document: &mut serde_json::Value) {
    let Some(paths) = document.get_mut("paths").and_then(|paths| paths.as_object_mut()) else { return };
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for item in paths.values() {
        for operation in item.as_object().into_iter().flat_map(|item| item.values()) {
            if let Some(id) = operation.get("operationId").and_then(|id| id.as_str()) {
                *seen.entry(id.to_owned()).or_default() += 1;
            }
        }
    }
    for item in paths.values_mut() {
        for (method, operation) in item.as_object_mut().into_iter().flat_map(|item| item.iter_mut()) {
            let Some(id) = operation.get("operationId").and_then(|id| id.as_str()).map(str::to_owned) else { continue };
            if seen.get(&id).is_some_and(|count| *count > 1) {
                operation["operationId"] = serde_json::Value::String(format!("{id}_{method}"));
            }
        }
    }
}

/// DRF's error shape for a whole request: not found, not authenticated, throttled, …
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"detail": "未找到。"}))]
pub struct Detail {
    pub detail: String,
}

/// DRF's error shape for invalid fields: each field with its messages (`non_field_errors` for the
/// request as a whole).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"mobile": ["手机号码非法"], "code": ["验证码错误"]}))]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

/// Request bodies. Each is accepted as JSON, `application/x-www-form-urlencoded` or
/// `multipart/form-data` (like DRF's parsers).
pub mod bodies {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// `POST /code/`
    #[derive(Serialize, ToSchema)]
    #[schema(example = json!({"mobile": "13800138000"}))]
    pub struct SendCode {
        /// A mainland mobile number (11 digits, `1[3-9]…`).
        pub mobile: String,
    }

    /// `POST /users/`
    #[derive(Serialize, ToSchema)]
    #[schema(example = json!({"username": "13800138000", "code": "1234", "password": "s3cret-pass"}))]
    pub struct Register {
        /// The mobile number the code was sent to; it becomes the username.
        pub username: String,
        /// The 4-digit SMS code (valid 5 minutes).
        pub code: String,
        pub password: String,
    }

    /// `POST /login/`
    #[derive(Serialize, ToSchema)]
    #[schema(example = json!({"username": "13800138000", "password": "s3cret-pass"}))]
    pub struct Login {
        /// Username or mobile number.
        pub username: String,
        pub password: String,
    }

    /// `PATCH`/`PUT /users/{id}/`: the fields sent are changed (`PUT` requires `username`).
    #[derive(Serialize, ToSchema)]
    #[schema(example = json!({"username": "alice", "gender": "female", "birthday": "1990-01-31", "email": "alice@example.com"}))]
    pub struct Profile {
        pub username: Option<String>,
        /// `male` or `female`.
        pub gender: Option<String>,
        /// `YYYY-MM-DD`.
        pub birthday: Option<String>,
        pub email: Option<String>,
    }

    /// `POST /userfavs/`
    #[derive(Serialize, ToSchema)]
    #[schema(example = json!({"goods": 12}))]
    pub struct NewFav {
        /// The goods id.
        pub goods: i32,
    }

    /// `POST /messages/` (multipart when a file is attached).
    #[derive(Serialize, ToSchema)]
    pub struct NewMessage {
        /// 1 留言, 2 投诉, 3 询问, 4 售后, 5 求购.
        pub message_type: i16,
        pub subject: String,
        /// At most 5,000 characters.
        pub message: String,
        /// An attachment (documents, images, archives; no HTML, SVG, scripts or XML).
        #[schema(value_type = Option<String>, format = Binary)]
        pub file: Option<Vec<u8>>,
    }

    /// `POST /shopcarts/`: adds `nums` to the line of `goods` (creating it).
    #[derive(Serialize, ToSchema)]
    #[schema(example = json!({"goods": 12, "nums": 2}))]
    pub struct CartAdd {
        pub goods: i32,
        /// At least 1, at most the goods' stock.
        pub nums: i32,
    }

    /// `PUT`/`PATCH /shopcarts/{goods_id}/`: sets the line's quantity.
    #[derive(Serialize, ToSchema)]
    #[schema(example = json!({"nums": 3}))]
    pub struct CartSet {
        pub nums: i32,
    }

    /// `POST /orders/`: an order of the whole cart. The server computes the total; an
    /// `order_mount` sent is checked against it (a stale page gets a 400, not a wrong charge).
    #[derive(Serialize, ToSchema)]
    #[schema(example = json!({"address": "北京市 北京市 海淀区 中关村大街 1 号", "signer_name": "张三", "singer_mobile": "13800138000", "post_script": "请尽快发货", "order_mount": 256.0}))]
    pub struct NewOrder {
        pub address: Option<String>,
        pub signer_name: Option<String>,
        /// (sic: the original API's spelling)
        pub singer_mobile: String,
        /// The buyer's message, at most 200 characters.
        pub post_script: String,
        /// The total the buyer was shown, in yuan (optional).
        #[schema(value_type = Option<f64>)]
        pub order_mount: Option<f64>,
    }

    /// `POST /admin/orders/{id}/refund/` (staff only).
    #[derive(Serialize, ToSchema)]
    #[schema(example = json!({"amount": "10.00", "reason": "退货", "out_request_no": "rf-20261130-0001"}))]
    pub struct NewRefund {
        /// Yuan, more than 0, at most two decimals, at most what is left to refund.
        pub amount: String,
        pub reason: Option<String>,
        /// The operator's own number for this refund: retrying with it is safe (at most one refund).
        pub out_request_no: Option<String>,
    }

    /// Alipay's asynchronous notification (`application/x-www-form-urlencoded`, RSA2-signed).
    #[derive(Serialize, ToSchema)]
    #[schema(example = json!({"notify_time": "2026-11-30 12:00:00", "notify_type": "trade_status_sync", "notify_id": "2026113000222120000012345678", "app_id": "2021000000000001", "charset": "utf-8", "version": "1.0", "sign_type": "RSA2", "sign": "…", "trade_no": "2026113022001400000000000001", "out_trade_no": "20261130120000001234", "trade_status": "TRADE_SUCCESS", "total_amount": "256.00", "seller_id": "2088000000000001", "gmt_payment": "2026-11-30 12:00:00"}))]
    pub struct AlipayNotification {
        pub notify_id: String,
        pub app_id: String,
        pub out_trade_no: String,
        pub trade_no: String,
        /// `WAIT_BUYER_PAY`, `TRADE_SUCCESS`, `TRADE_FINISHED` or `TRADE_CLOSED`.
        pub trade_status: String,
        pub total_amount: String,
        pub seller_id: Option<String>,
        pub sign_type: String,
        pub sign: String,
    }
}

/// Error answers shared by many operations, for their `responses(...)`.
pub mod answers {
    use serde::Serialize;
    use utoipa::{IntoResponses, ToSchema};

    /// 400: invalid fields, each with its messages.
    #[derive(Serialize, ToSchema, IntoResponses)]
    #[response(status = 400, description = "Invalid fields (DRF shape: each field with its messages)", example = json!({"nums": ["库存不足"]}))]
    pub struct Invalid(pub std::collections::BTreeMap<String, Vec<String>>);

    /// 401: no token, or one that is expired, forged, revoked or of a deactivated user.
    #[derive(Serialize, ToSchema, IntoResponses)]
    #[response(status = 401, description = "Not authenticated", example = json!({"detail": "身份认证信息未提供。"}))]
    pub struct NotAuthenticated {
        pub detail: String,
    }

    /// 403: authenticated but not staff.
    #[derive(Serialize, ToSchema, IntoResponses)]
    #[response(status = 403, description = "Staff only", example = json!({"detail": "您没有执行该操作的权限。"}))]
    pub struct Forbidden {
        pub detail: String,
    }

    /// 404: no such object (another user's objects are 404 too).
    #[derive(Serialize, ToSchema, IntoResponses)]
    #[response(status = 404, description = "Not found", example = json!({"detail": "未找到。"}))]
    pub struct NotFound {
        pub detail: String,
    }

    /// 422: a key reused with another request.
    #[derive(Serialize, ToSchema, IntoResponses)]
    #[response(status = 422, description = "An idempotency key or `out_request_no` reused with another request", example = json!({"detail": "Idempotency-Key 已用于另一个请求。"}))]
    pub struct Conflict {
        pub detail: String,
    }

    /// 429: a rate limit; `Retry-After` says when to try again.
    #[derive(Serialize, ToSchema, IntoResponses)]
    #[response(status = 429, description = "Rate limited", example = json!({"detail": "请求超过了限速。 Expected available in 60 seconds."}))]
    pub struct Throttled {
        pub detail: String,
    }
}
