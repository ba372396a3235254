//! Checkout, orders and payment pages. Every change goes through the API's own forms and
//! services (the same validation, locks, stock checks and order rules); these pages only turn
//! forms into their input and their answers into pages.

use askama::Template;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::Response;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::member::{self, TypedAddress};
use super::session::Visitor;
use super::view::{self, Chrome, FormErrors, Page, Submitted};
use crate::db::entities::order_info;
use crate::http::body::Payload;
use crate::http::{ApiError, Lookup, QueryParams, RequestUrl};
use crate::member::addresses::AddressJson;
use crate::money::Money;
use crate::payments::Checkout;
use crate::payments::notify::confirm_return;
use crate::state::AppState;
use crate::trade::cart::CartLineJson;
use crate::trade::checkout;
use crate::trade::order_form::OrderForm;
use crate::trade::orders::{self, owned_order};
use crate::trade::status::PayStatus;

use super::cart::cart_lines;
#[derive(Template)]
#[template(path = "storefront/checkout.html")]
struct CheckoutPage {
    chrome: Chrome,
    lines: Vec<CartLineJson>,
    total: Money,
    addresses: Vec<AddressJson>,
    /// The address chosen: an id, or `new`.
    chosen: String,
    address: TypedAddress,
    post_script: String,
    /// This page's order key (`Idempotency-Key`): a double click or a retry of the same page
    /// places one order.
    checkout_key: String,
    errors: FormErrors,
}

/// The page's checkout key if the form carries a well-formed one.
fn checkout_key(form: &Payload) -> Option<&str> {
    form.text("checkout_key").filter(|key| key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn checkout_view(page: &Page, status: StatusCode, form: &Payload, errors: FormErrors) -> Response {
    let Page { state, visitor, url } = page;
    let Some(user) = visitor.current_user() else { return view::to_login(visitor, "/shop/checkout/") };
    let loaded = async {
        let (lines, total) = cart_lines(state, url, &user).await?;
        let addresses = member::addresses_of(state, &user).await?;
        Ok::<_, ApiError>((lines, total, addresses))
    };
    match loaded.await {
        Ok((lines, total, addresses)) => {
            let chosen = form
                .text("address")
                .map(str::to_owned)
                .or_else(|| addresses.last().map(|a| a.id.to_string()))
                .unwrap_or_else(|| "new".to_owned());
            let page = CheckoutPage {
                chrome: Chrome::new(visitor, state),
                lines,
                total,
                addresses,
                chosen,
                address: TypedAddress::from(form),
                post_script: form.text("post_script").unwrap_or_default().to_owned(),
                checkout_key: checkout_key(form).map_or_else(|| hex::encode(rand::random::<[u8; 16]>()), str::to_owned),
                errors,
            };
            view::page(state, visitor, status, &page)
        }
        Err(error) => view::failure(state, visitor, error),
    }
}

/// `GET /shop/checkout/`
pub async fn checkout_page(page: Page) -> Response {
    checkout_view(&page, StatusCode::OK, &Payload::empty(), FormErrors::default()).await
}

/// The fields checkout errors may name, shown next to their inputs.
const CHECKOUT_FIELDS: &[&str] =
    &["address", "province", "city", "district", "detail", "signer_name", "signer_mobile", "post_script"];

/// `POST /shop/checkout/`: a new address is saved first (`POST /address/`), then the order is
/// placed from the cart (`POST /orders/`) with the total this page showed, so that a cart that
/// changed meanwhile is refused instead of ordered at another amount.
pub async fn checkout(page: Page, form: Submitted) -> Result<Response, view::Early> {
    let page = &page;
    let Page { state, visitor, .. } = page;
    let again = move |form: Payload, status, errors| async move { checkout_view(page, status, &form, errors).await };
    let who = view::signed_in(visitor, "/shop/checkout/");
    let (user, form) = view::checked_form(state, visitor, form, who, again).await?;
    let key = checkout_key(&form).map(|key| format!("shop-{key}"));
    // A second click of the same page: the order the first one placed (before anything is saved).
    if let Some(key) = &key {
        match checkout::order_for_key(&state.db, user.id(), key).await {
            Ok(Some(id)) => return Ok(view::redirect(visitor, &format!("/shop/orders/{id}/"), None)),
            Ok(None) => {}
            Err(error) => return Ok(view::failure(state, visitor, error.into())),
        }
    }
    let mut saved_address = None;
    let placed = async {
        let address = match form.text("address") {
            Some("new") | None => {
                let address = member::add_address(state, &user, &form).await?;
                saved_address = Some(address.id);
                address
            }
            Some(id) => {
                let id = id.parse::<i32>().map_err(|_| ApiError::NotFound)?;
                member::addresses_of(state, &user).await?.into_iter().find(|a| a.id == id).ok_or_else(|| {
                    ApiError::Validation(crate::http::FieldErrors::single("address", "请选择收货地址。"))
                })?
            }
        };
        let order = Payload::from_form([
            ("post_script".to_owned(), form.text("post_script").unwrap_or_default().to_owned()),
            ("order_mount".to_owned(), form.text("order_mount").unwrap_or_default().to_owned()),
            (
                "address".to_owned(),
                format!("{} {} {} {}", address.province, address.city, address.district, address.address),
            ),
            ("signer_name".to_owned(), address.signer_name.clone()),
            ("singer_mobile".to_owned(), address.signer_mobile.clone()),
        ]);
        let order = checkout::place(state, user.id(), &OrderForm::read(&order)?, key.as_deref()).await?;
        Ok::<_, ApiError>(order.id)
    };
    Ok(match placed.await {
        Ok(id) => view::redirect(visitor, &format!("/shop/orders/{id}/"), None),
        Err(error) => match view::form_errors(error, CHECKOUT_FIELDS) {
            Ok(errors) => {
                // The order's names for the address fields are the address form's here.
                let errors = errors.renamed("singer_mobile", "signer_mobile");
                // A new address saved before the order was refused is chosen on the page that
                // comes back, so that the retry does not save it again.
                let form = match saved_address {
                    Some(id) => {
                        let names = ["checkout_key", "post_script", "province", "city", "district", "detail"];
                        let kept = names.iter().chain(["signer_name", "signer_mobile"].iter());
                        Payload::from_form(
                            kept.filter_map(|name| form.text(name).map(|value| ((*name).to_owned(), value.to_owned())))
                                .chain([("address".to_owned(), id.to_string())]),
                        )
                    }
                    None => form,
                };
                checkout_view(page, StatusCode::BAD_REQUEST, &form, errors).await
            }
            Err(error) => view::failure(state, visitor, error),
        },
    })
}

#[derive(Template)]
#[template(path = "storefront/orders.html")]
struct OrdersPage {
    chrome: Chrome,
    orders: Vec<crate::trade::render::OrderJson>,
}

/// `GET /shop/orders/`
pub async fn orders_page(Page { state, visitor, .. }: Page) -> Response {
    let Some(user) = visitor.current_user() else { return view::to_login(&visitor, "/shop/orders/") };
    match orders::orders(&state, &user).await {
        Ok(mut orders) => {
            orders.reverse();
            view::page(&state, &visitor, StatusCode::OK, &OrdersPage { chrome: Chrome::new(&visitor, &state), orders })
        }
        Err(error) => view::failure(&state, &visitor, error),
    }
}

/// The words a buyer reads for a payment status.
pub fn status_label(status: &str) -> &'static str {
    match PayStatus::parse(status) {
        Some(PayStatus::Paying) => "待支付",
        Some(PayStatus::TradeSuccess) => "已支付",
        Some(PayStatus::TradeFinished) => "交易完成",
        Some(PayStatus::TradeClosed) => "已关闭",
        None => "处理中",
    }
}

#[derive(Template)]
#[template(path = "storefront/order.html")]
struct OrderPage {
    chrome: Chrome,
    order: crate::trade::render::OrderDetailJson,
    payable: bool,
    errors: FormErrors,
}

async fn order_view(
    state: &AppState,
    visitor: &Visitor,
    url: &RequestUrl,
    id: i32,
    status: StatusCode,
    errors: FormErrors,
) -> Response {
    let Some(user) = visitor.current_user() else { return view::to_login(visitor, &format!("/shop/orders/{id}/")) };
    match orders::order_detail(state, url, &user, id).await {
        Ok(order) => {
            let payable = order.alipay_url.is_some();
            let page = OrderPage { chrome: Chrome::new(visitor, state), order, payable, errors };
            view::page(state, visitor, status, &page)
        }
        Err(error) => view::failure(state, visitor, error),
    }
}

/// `GET /shop/orders/{id}/`
pub async fn order_page(Page { state, visitor, url }: Page, Lookup(id): Lookup) -> Response {
    order_view(&state, &visitor, &url, id, StatusCode::OK, FormErrors::default()).await
}

/// `POST /shop/orders/{id}/cancel/`: `DELETE /orders/{id}/`.
pub async fn cancel_order(
    Page { state, visitor, url }: Page,
    lookup: Lookup,
    form: Submitted,
) -> Result<Response, view::Early> {
    let (user, form) = view::signed_in_form(&state, &visitor, form, "/shop/orders/").await?;
    let result = orders::cancel(&state, user.id(), lookup.0).await;
    let done = |_| view::redirect(&visitor, "/shop/orders/", None);
    // `again` moves copies of these references in; `view::answer` still uses them.
    let (state, visitor, url) = (&state, &visitor, &url);
    let again = move |_: Payload, status, errors| async move {
        order_view(state, visitor, url, lookup.0, status, errors).await
    };
    Ok(view::answer((state, visitor), form, result, &[], done, again).await)
}

/// `GET /shop/orders/{id}/pay/?channel=page|wap`: to Alipay's cashier (the built-in sandbox by
/// default), coming back to `/shop/alipay/return/`. A link, not a form: browsers check the
/// redirects that follow a form submission against CSP `form-action`, and Alipay's gateway
/// redirects onwards to its cashier host. Signing a payment request changes nothing, so a GET
/// needs no CSRF token; only the order's owner gets one, and only while the order is unpaid.
pub async fn pay_order(Page { state, visitor, url }: Page, Lookup(id): Lookup, RawQuery(query): RawQuery) -> Response {
    let Some(user) = visitor.current_user() else { return view::to_login(&visitor, &format!("/shop/orders/{id}/")) };
    let order = match owned_order(&state, &user, id).await {
        Ok(order) => order,
        Err(error) => return view::failure(&state, &visitor, error),
    };
    let wap = match QueryParams::parse(query.as_deref()).get("channel") {
        Some(channel) => channel == "wap",
        None => visitor.mobile,
    };
    let checkout = Checkout { wap, return_url: Some(format!("{}/shop/alipay/return/", state.config.public_url())) };
    match state.payments.checkout_url(&order, &checkout) {
        Some(to) => view::redirect(&visitor, &to, None),
        None => {
            let errors = FormErrors::general("此订单已不能支付（已支付、已关闭或已超过支付期限）。");
            order_view(&state, &visitor, &url, id, StatusCode::CONFLICT, errors).await
        }
    }
}

/// `GET /shop/alipay/return/`: the buyer is back from the cashier. The return is verified and the
/// trade asked about (as `/alipay/return/` does), then the buyer sees the order.
pub async fn alipay_return(Page { state, visitor, .. }: Page, RawQuery(query): RawQuery) -> Response {
    let Some(order_sn) = confirm_return(&state, query.as_deref().unwrap_or_default()).await else {
        return view::message(
            &state,
            &visitor,
            StatusCode::BAD_REQUEST,
            "支付返回无效",
            vec!["无法确认这次支付返回，请在“我的订单”中查看订单状态。".into()],
        );
    };
    let found = match &visitor.user {
        Some(user) => order_info::Entity::find()
            .filter(order_info::Column::OrderSn.eq(order_sn))
            .filter(order_info::Column::UserId.eq(user.id))
            .one(&state.db)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    match found {
        Some(order) => view::redirect(&visitor, &format!("/shop/orders/{}/", order.id), None),
        None => view::redirect(&visitor, "/shop/orders/", None),
    }
}
