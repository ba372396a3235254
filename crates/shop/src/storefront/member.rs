//! Member pages: favourites, messages (with a file), addresses. Changes go through the API's own
//! forms and services for `/userfavs/`, `/messages/` and `/address/`.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::session::Visitor;
use super::view::{self, Chrome, FormErrors, Page, Submitted};
use crate::accounts::values::Mobile;
use crate::catalog::GoodsId;
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::fields::messages::REQUIRED;
use crate::http::{ApiError, ApiResult, FieldErrors, Lookup};
use crate::member::addresses::{self, AddressForm, AddressJson};
use crate::member::favs::{self, FavDetail};
use crate::member::messages::{self, MessageForm, MessageJson};
use crate::state::AppState;

/// The new-address fields as typed (the street line is `detail` here, `address` in the API).
#[derive(Default)]
pub struct TypedAddress {
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
    pub signer_name: String,
    pub signer_mobile: String,
}

impl From<&Payload> for TypedAddress {
    fn from(form: &Payload) -> Self {
        let text = |name: &str| form.text(name).unwrap_or_default().trim().to_owned();
        Self {
            province: text("province"),
            city: text("city"),
            district: text("district"),
            detail: text("detail"),
            signer_name: text("signer_name"),
            signer_mobile: text("signer_mobile"),
        }
    }
}

/// The user's addresses, oldest first (`GET /address/`).
pub async fn addresses_of(state: &AppState, user: &CurrentUser) -> ApiResult<Vec<AddressJson>> {
    let rows = addresses::list(&state.db, user.id()).await?;
    Ok(rows.iter().map(AddressJson::from).collect())
}

/// Saves the address in `form` (`POST /address/`). A parcel needs every field, so the storefront
/// asks for all of them; the API's own rules (lengths) apply on top.
pub async fn add_address(state: &AppState, user: &CurrentUser, form: &Payload) -> ApiResult<AddressJson> {
    let typed = TypedAddress::from(form);
    let mut missing = FieldErrors::new();
    for (name, value) in [
        ("province", &typed.province),
        ("city", &typed.city),
        ("district", &typed.district),
        ("detail", &typed.detail),
        ("signer_name", &typed.signer_name),
        ("signer_mobile", &typed.signer_mobile),
    ] {
        if value.is_empty() {
            missing.add(name, REQUIRED);
        }
    }
    if let Err(message) = Mobile::parse(&typed.signer_mobile)
        && !typed.signer_mobile.is_empty()
    {
        missing.add("signer_mobile", message);
    }
    missing.into_result()?;
    let payload = Payload::from_form([
        ("province".to_owned(), typed.province),
        ("city".to_owned(), typed.city),
        ("district".to_owned(), typed.district),
        ("address".to_owned(), typed.detail),
        ("signer_name".to_owned(), typed.signer_name),
        ("signer_mobile".to_owned(), typed.signer_mobile),
    ]);
    // The API's rules name the street line `address`; this form names it `detail`.
    let form = AddressForm::read(&payload, false)
        .map_err(|errors| view::FormErrors::new(errors, &[]).renamed("address", "detail").into_inner())?;
    Ok(AddressJson::from(&addresses::create(&state.db, user.id(), form).await?))
}

#[derive(Template)]
#[template(path = "storefront/addresses.html")]
struct AddressesPage {
    chrome: Chrome,
    addresses: Vec<AddressJson>,
    address: TypedAddress,
    errors: FormErrors,
}

async fn addresses_view(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    form: &Payload,
    errors: FormErrors,
) -> Response {
    let Some(user) = visitor.current_user() else { return view::to_login(visitor, "/shop/addresses/") };
    match addresses_of(state, &user).await {
        Ok(addresses) => {
            let page = AddressesPage {
                chrome: Chrome::new(visitor, state),
                addresses,
                address: TypedAddress::from(form),
                errors,
            };
            view::page(state, visitor, status, &page)
        }
        Err(error) => view::failure(state, visitor, error),
    }
}

/// `GET /shop/addresses/`
pub async fn addresses_page(Page { state, visitor, .. }: Page) -> Response {
    addresses_view(&state, &visitor, StatusCode::OK, &Payload::empty(), FormErrors::default()).await
}

const ADDRESS_FIELDS: &[&str] = &["province", "city", "district", "detail", "signer_name", "signer_mobile"];

/// `POST /shop/addresses/`
pub async fn create_address(Page { state, visitor, .. }: Page, form: Submitted) -> Result<Response, view::Early> {
    let (state, visitor) = (&state, &visitor);
    let again =
        move |form: Payload, status, errors| async move { addresses_view(state, visitor, status, &form, errors).await };
    let who = view::signed_in(visitor, "/shop/addresses/");
    let (user, form) = view::checked_form(state, visitor, form, who, again).await?;
    let result = add_address(state, &user, &form).await;
    let done = |_| view::redirect(visitor, "/shop/addresses/", None);
    Ok(view::answer((state, visitor), form, result, ADDRESS_FIELDS, done, again).await)
}

/// `POST /shop/addresses/{id}/delete/`
pub async fn delete_address(
    Page { state, visitor, .. }: Page,
    lookup: Lookup,
    form: Submitted,
) -> Result<Response, view::Early> {
    let (user, _) = view::signed_in_form(&state, &visitor, form, "/shop/addresses/").await?;
    Ok(match addresses::delete(&state.db, user.id(), lookup.0).await {
        Ok(_) | Err(ApiError::NotFound) => view::redirect(&visitor, "/shop/addresses/", None),
        Err(error) => view::failure(&state, &visitor, error),
    })
}

#[derive(Template)]
#[template(path = "storefront/favs.html")]
struct FavsPage {
    chrome: Chrome,
    favs: Vec<FavDetail>,
}

/// `GET /shop/favs/`
pub async fn favs_page(Page { state, visitor, url }: Page) -> Response {
    let Some(user) = visitor.current_user() else { return view::to_login(&visitor, "/shop/favs/") };
    match favs::favourites(&state, &url, &user).await {
        Ok(favs) => {
            view::page(&state, &visitor, StatusCode::OK, &FavsPage { chrome: Chrome::new(&visitor, &state), favs })
        }
        Err(error) => view::failure(&state, &visitor, error),
    }
}

/// `POST /shop/favs/{goods}/` (`remove=1` to take it back): `POST`/`DELETE /userfavs/`.
pub async fn toggle_fav(
    Page { state, visitor, .. }: Page,
    lookup: Lookup,
    form: Submitted,
) -> Result<Response, view::Early> {
    let back = format!("/shop/goods/{}/", lookup.0);
    let (user, form) = view::signed_in_form(&state, &visitor, form, &back).await?;
    let done = if form.text("remove").is_some() {
        favs::remove(&state.db, user.id(), lookup.0).await
    } else {
        favs::add(&state.db, user.id(), GoodsId::new(lookup.0)).await.map(drop)
    };
    Ok(match done {
        // Already (not) a favourite: a repeated click changes nothing.
        Ok(()) | Err(ApiError::NotFound) => view::redirect(&visitor, &back, None),
        Err(ApiError::Validation(errors)) if errors.iter().any(|(name, _)| name == "non_field_errors") => {
            view::redirect(&visitor, &back, None)
        }
        Err(error) => view::failure(&state, &visitor, error),
    })
}

#[derive(Template)]
#[template(path = "storefront/messages.html")]
struct MessagesPage {
    chrome: Chrome,
    messages: Vec<MessageJson>,
    subject: String,
    message: String,
    errors: FormErrors,
}

async fn messages_view(page: &Page, status: StatusCode, form: &Payload, errors: FormErrors) -> Response {
    let Page { state, visitor, url } = page;
    let Some(user) = visitor.current_user() else { return view::to_login(visitor, "/shop/messages/") };
    match messages::list(&state.db, user.id()).await {
        Ok(rows) => {
            let mut list: Vec<MessageJson> = rows.iter().map(|row| MessageJson::new(row, url)).collect();
            list.reverse();
            let page = MessagesPage {
                chrome: Chrome::new(visitor, state),
                messages: list,
                subject: form.text("subject").unwrap_or_default().to_owned(),
                message: form.text("message").unwrap_or_default().to_owned(),
                errors,
            };
            view::page(state, visitor, status, &page)
        }
        Err(error) => view::failure(state, visitor, error.into()),
    }
}

/// `GET /shop/messages/`
pub async fn messages_page(page: Page) -> Response {
    messages_view(&page, StatusCode::OK, &Payload::empty(), FormErrors::default()).await
}

const MESSAGE_FIELDS: &[&str] = &["message_type", "subject", "message", "file"];

/// `POST /shop/messages/` (multipart, with the file): `POST /messages/`.
pub async fn leave_message(page: Page, form: Submitted) -> Result<Response, view::Early> {
    let page = &page;
    let Page { state, visitor, .. } = page;
    let form = match form {
        Ok(form) => form,
        Err(error) => {
            return Ok(match view::unreadable(error, MESSAGE_FIELDS) {
                Ok((status, errors)) => messages_view(page, status, &Payload::empty(), errors).await,
                Err(error) => view::failure(state, visitor, error),
            });
        }
    };
    let again = move |form: Payload, status, errors| async move { messages_view(page, status, &form, errors).await };
    let who = view::signed_in(visitor, "/shop/messages/");
    let (user, form) = view::checked_form(state, visitor, Ok(form), who, again).await?;
    let mut missing = FieldErrors::new();
    for name in ["subject", "message"] {
        if form.text(name).is_none_or(|text| text.trim().is_empty()) {
            missing.add(name, REQUIRED);
        }
    }
    let result = match missing.into_result() {
        Ok(()) => match MessageForm::read(&form, &state.config.upload_extensions) {
            Ok(message) => messages::leave(state, user.id(), message).await.map(drop),
            Err(errors) => Err(errors.into()),
        },
        Err(error) => Err(error),
    };
    let done = |()| view::redirect(visitor, "/shop/messages/", None);
    Ok(view::answer((state, visitor), form, result, MESSAGE_FIELDS, done, again).await)
}
