//! HTTP: `gateway.do` (request verification and dispatch, signed answers), the cashier's
//! buttons, the inspection page and JSON, the test API.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, OriginalUri, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::core::{Biz, CashierView, Refusal};
use crate::{App, Sandbox, json, pages};

const PAGE_PAY: &str = "alipay.trade.page.pay";
const WAP_PAY: &str = "alipay.trade.wap.pay";
const API_METHODS: &[&str] = &[
    "alipay.trade.query",
    "alipay.trade.refund",
    "alipay.trade.fastpay.refund.query",
    "alipay.trade.close",
    "alipay.trade.cancel",
];

pub(crate) fn router(sandbox: Sandbox, test_api: bool) -> Router {
    let mut r = Router::new()
        .route("/gateway.do", get(gateway).post(gateway))
        .route("/cashier/pay", post(cashier_pay))
        .route("/cashier/close", post(cashier_close))
        .route("/", get(root))
        .route("/inspect", get(inspect_page))
        .route("/inspect.json", get(inspect_json))
        .route("/alipay_public_key.pem", get(public_key_pem));
    if test_api {
        r = r
            .route("/test/pay", post(test_pay))
            .route("/test/close", post(test_close))
            .route("/test/advance", post(test_advance))
            .route("/test/drop-deliveries", post(test_drop));
    }
    r.with_state(sandbox)
}

/// Query and form body merged; a name given twice is refused.
fn collect(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<BTreeMap<String, String>, Refusal> {
    let mut pairs = match query {
        Some(q) => alipay::sign::parse_form(q).map_err(|e| Refusal::invalid("isv.invalid-parameter", e.to_string()))?,
        None => Vec::new(),
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let is_form =
        content_type.is_empty() || content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded");
    if is_form && !body.is_empty() {
        let text =
            std::str::from_utf8(body).map_err(|_| Refusal::invalid("isv.invalid-charset", "请求体不是 UTF-8"))?;
        pairs.extend(
            alipay::sign::parse_form(text).map_err(|e| Refusal::invalid("isv.invalid-parameter", e.to_string()))?,
        );
    }
    let mut map = BTreeMap::new();
    for (k, v) in pairs {
        if map.contains_key(&k) {
            return Err(Refusal::invalid("isv.invalid-parameter", format!("参数重复: {k}")));
        }
        map.insert(k, v);
    }
    Ok(map)
}

impl Sandbox {
    /// Checks a request as the gateway does: required public fields, known method and app,
    /// timestamp, charset, then the signature over every received field but `sign`.
    fn verify(&self, p: &BTreeMap<String, String>) -> Result<App, Refusal> {
        let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let method = get("method").ok_or_else(|| Refusal::missing("isv.missing-method", "缺少方法名参数"))?;
        if method != PAGE_PAY && method != WAP_PAY && !API_METHODS.contains(&method) {
            return Err(Refusal::invalid("isv.invalid-method", format!("不存在的方法名: {method}")));
        }
        let app_id = get("app_id").ok_or_else(|| Refusal::missing("isv.missing-app-id", "缺少AppID参数"))?;
        let sign = get("sign").ok_or_else(|| Refusal::missing("isv.missing-signature", "缺少签名参数"))?;
        let sign_type =
            get("sign_type").ok_or_else(|| Refusal::missing("isv.missing-signature-type", "缺少签名类型参数"))?;
        let timestamp = get("timestamp").ok_or_else(|| Refusal::missing("isv.missing-timestamp", "缺少时间戳参数"))?;
        let version = get("version").ok_or_else(|| Refusal::missing("isv.missing-version", "缺少版本参数"))?;
        let app = self
            .inner
            .apps
            .get(app_id)
            .ok_or_else(|| Refusal::invalid("isv.invalid-app-id", format!("无效的AppID参数: {app_id}")))?;
        let sign_type: alipay::SignType = sign_type
            .parse()
            .map_err(|_| Refusal::invalid("isv.invalid-signature-type", format!("无效签名类型: {sign_type}")))?;
        let ts = alipay::timestamp::parse_beijing("timestamp", timestamp)
            .map_err(|_| Refusal::invalid("isv.invalid-timestamp", format!("非法的时间戳参数: {timestamp}")))?;
        let skew = (chrono::Utc::now() - ts.with_timezone(&chrono::Utc)).abs().to_std().unwrap_or(Duration::MAX);
        if skew > self.inner.timestamp_tolerance {
            return Err(Refusal::invalid(
                "isv.invalid-timestamp",
                format!("非法的时间戳参数: {timestamp} (Beijing time, UTC+8) is {}s from now", skew.as_secs()),
            ));
        }
        if version != "1.0" {
            return Err(Refusal::invalid("isv.invalid-version", format!("无效的版本号: {version}")));
        }
        if let Some(c) = get("charset")
            && !c.eq_ignore_ascii_case("utf-8")
        {
            return Err(Refusal::invalid("isv.invalid-charset", format!("字符集错误: {c} (the sandbox speaks utf-8)")));
        }
        let text = alipay::sign::canonical_request_string(p.iter());
        if app.public_key.verify(sign_type, text.as_bytes(), sign).is_err() {
            return Err(Refusal::invalid(
                "isv.invalid-signature",
                format!("验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{text}"),
            ));
        }
        Ok(app.clone())
    }

    /// A signed answer in Alipay's byte format.
    fn answer(&self, key: &str, content: &Map<String, Value>) -> Response {
        let span = json::to_alipay_json(&Value::Object(content.clone()));
        let body = match self.inner.alipay_key.sign_rsa2(span.as_bytes()) {
            Ok(sign) => format!("{{\"{key}\":{span},\"sign\":\"{sign}\"}}"),
            Err(e) => {
                tracing::error!(error = %e, "signing an answer");
                format!("{{\"{key}\":{span}}}")
            }
        };
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=utf-8"))], body).into_response()
    }

    fn refusal_answer(&self, key: &str, r: &Refusal) -> Response {
        let mut m = Map::new();
        m.insert("code".into(), r.code.into());
        m.insert("msg".into(), r.msg.into());
        m.insert("sub_code".into(), r.sub_code.clone().into());
        m.insert("sub_msg".into(), r.sub_msg.clone().into());
        self.answer(key, &m)
    }
}

fn response_key(method: Option<&str>) -> String {
    match method {
        Some(m) if API_METHODS.contains(&m) => alipay::response::response_key(m),
        _ => "error_response".into(),
    }
}

async fn gateway(State(sb): State<Sandbox>, RawQuery(query): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let params = match collect(query.as_deref(), &headers, &body) {
        Ok(p) => p,
        Err(r) => return sb.refusal_answer("error_response", &r),
    };
    let method = params.get("method").map(String::as_str);
    let is_pay = matches!(method, Some(PAGE_PAY | WAP_PAY));
    let key = response_key(method);
    let refuse = |r: Refusal| {
        tracing::info!(code = r.code, sub_code = %r.sub_code, method = ?method, "request refused");
        if is_pay { pages::refusal(&r) } else { sb.refusal_answer(&key, &r) }
    };
    let app = match sb.verify(&params) {
        Ok(app) => app,
        Err(r) => return refuse(r),
    };
    let biz = match params.get("biz_content").filter(|b| !b.is_empty()) {
        None => Biz(Map::new()),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => Biz(m),
            _ => return refuse(Refusal::invalid("isv.invalid-parameter", "biz_content 不是合法的 JSON 对象")),
        },
    };
    let method = method.unwrap_or_default();
    if is_pay {
        return match sb.open_cashier(&app, method, &params, &biz).await {
            Ok(CashierView::Open(t)) => pages::cashier(&t, &sb.inner.seller_id),
            Ok(CashierView::AlreadyPaid(t)) => pages::message(
                StatusCode::OK,
                "订单已支付 / already paid",
                &format!(
                    "Order {} ({} yuan) has already been paid (trade {}).",
                    t.out_trade_no, t.total_amount, t.trade_no
                ),
            ),
            Ok(CashierView::Closed(t)) => pages::message(
                StatusCode::OK,
                "交易已关闭 / trade closed",
                &format!("Order {} is closed (trade {}).", t.out_trade_no, t.trade_no),
            ),
            Err(r) => refuse(r),
        };
    }
    let result = match method {
        "alipay.trade.query" => sb.query(&app, &biz).await,
        "alipay.trade.refund" => sb.refund(&app, &biz).await,
        "alipay.trade.fastpay.refund.query" => sb.refund_query(&app, &biz).await,
        "alipay.trade.close" => sb.close_api(&app, &biz).await,
        _ => sb.cancel(&app, &biz).await,
    };
    match result {
        Ok(m) => sb.answer(&key, &m),
        Err(r) => refuse(r),
    }
}

#[derive(Deserialize)]
struct TradeNoForm {
    trade_no: String,
}

async fn cashier_pay(State(sb): State<Sandbox>, Form(f): Form<TradeNoForm>) -> Response {
    match sb.pay_trade_no(&f.trade_no).await {
        Ok(outcome) => match outcome.return_url {
            Some(url) => Redirect::to(&url).into_response(),
            None => pages::message(
                StatusCode::OK,
                "支付成功 / paid",
                &format!("Order {} paid: {} yuan.", outcome.trade.out_trade_no, outcome.trade.total_amount),
            ),
        },
        Err(e) => pages::message(StatusCode::CONFLICT, "无法支付 / cannot pay", &e),
    }
}

async fn cashier_close(State(sb): State<Sandbox>, Form(f): Form<TradeNoForm>) -> Response {
    match sb.close_trade_no(&f.trade_no).await {
        Ok(()) => {
            pages::message(StatusCode::OK, "交易已关闭 / trade closed", "You closed the cashier; the trade is closed.")
        }
        Err(e) => pages::message(StatusCode::CONFLICT, "无法关闭 / cannot close", &e),
    }
}

/// The mount point itself: on to the inspection page (absolute, since the mount point is unknown
/// to relative links when it has no trailing slash).
async fn root(OriginalUri(uri): OriginalUri) -> Redirect {
    Redirect::to(&format!("{}/inspect", uri.path().trim_end_matches('/')))
}

async fn inspect_page(State(sb): State<Sandbox>) -> Response {
    pages::inspect(&sb.snapshot().await)
}

async fn inspect_json(State(sb): State<Sandbox>) -> Response {
    axum::Json(sb.snapshot().await).into_response()
}

async fn public_key_pem(State(sb): State<Sandbox>) -> Response {
    match crate::keys::spki_pem(sb.alipay_public_key()) {
        Ok(pem) => pem.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

#[derive(Deserialize)]
struct TradeRefBody {
    app_id: String,
    out_trade_no: String,
}

fn test_error(status: StatusCode, e: impl std::fmt::Display) -> Response {
    (status, axum::Json(serde_json::json!({"error": e.to_string()}))).into_response()
}

async fn test_pay(State(sb): State<Sandbox>, axum::Json(b): axum::Json<TradeRefBody>) -> Response {
    match sb.pay(&b.app_id, &b.out_trade_no).await {
        Ok(o) => axum::Json(o).into_response(),
        Err(e) => test_error(StatusCode::CONFLICT, e),
    }
}

async fn test_close(State(sb): State<Sandbox>, axum::Json(b): axum::Json<TradeRefBody>) -> Response {
    match sb.close(&b.app_id, &b.out_trade_no).await {
        Ok(()) => axum::Json(serde_json::json!({"closed": true})).into_response(),
        Err(e) => test_error(StatusCode::CONFLICT, e),
    }
}

#[derive(Deserialize)]
struct AdvanceBody {
    seconds: f64,
}

async fn test_advance(State(sb): State<Sandbox>, axum::Json(b): axum::Json<AdvanceBody>) -> Response {
    let Ok(d) = Duration::try_from_secs_f64(b.seconds) else {
        return test_error(StatusCode::BAD_REQUEST, "seconds must be a non-negative number");
    };
    match sb.advance(d).await {
        Ok(()) => axum::Json(serde_json::json!({"now": sb.now().await.to_rfc3339()})).into_response(),
        Err(e) => test_error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

#[derive(Deserialize)]
struct DropBody {
    count: u32,
}

async fn test_drop(State(sb): State<Sandbox>, axum::Json(b): axum::Json<DropBody>) -> Response {
    match sb.drop_next_deliveries(b.count).await {
        Ok(()) => axum::Json(serde_json::json!({"drop_next": b.count})).into_response(),
        Err(e) => test_error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}
