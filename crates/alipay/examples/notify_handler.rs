//! Receives Alipay's asynchronous notification in an axum handler: verify the signature, then
//! check that it is about your app, your seller account and the amount you asked for, apply it
//! once, and answer exactly `success` (anything else and Alipay sends it again, for 25 hours).
//! Needs no `client` feature.
//!
//!     cargo run -p alipay --example notify_handler
//!
//! Serves `POST /pay/alipay/notify` on 127.0.0.1:8080 with the crate's test keys.

use std::sync::Arc;

use alipay::notify::{Notification, SUCCESS_BODY, verify_notification_body};
use alipay::{Money, PublicKeyRsa, SignType};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;

struct Merchant {
    app_id: String,
    seller_id: String,
    alipay_public_key: PublicKeyRsa,
}

impl Merchant {
    /// What your order says was asked for; a real shop reads its database here.
    fn amount_due(&self, _out_trade_no: &str) -> Option<Money> {
        Money::from_fen(1990).ok()
    }

    /// Marks the order paid if it is not yet (a real shop: one conditional UPDATE, so a repeated
    /// notification changes nothing).
    fn mark_paid(&self, notification: &Notification) {
        println!("order {} paid by Alipay trade {}", notification.out_trade_no, notification.trade_no);
    }
}

async fn notify(State(merchant): State<Arc<Merchant>>, body: String) -> (StatusCode, &'static str) {
    // The signature covers every field but `sign` and `sign_type`, so check it on the raw body.
    let notification = match verify_notification_body(&body, &merchant.alipay_public_key, SignType::Rsa2) {
        Ok(notification) => notification,
        Err(error) => {
            eprintln!("refused a notification: {error}");
            return (StatusCode::BAD_REQUEST, "fail");
        }
    };
    // A valid signature says Alipay sent it, not that it is about your order: check the rest.
    let ours = notification.app_id == merchant.app_id
        && notification.seller_id.as_deref() == Some(merchant.seller_id.as_str())
        && merchant.amount_due(&notification.out_trade_no) == Some(notification.total_amount);
    if !ours {
        eprintln!("a notification for another app, seller or amount: {}", notification.out_trade_no);
        return (StatusCode::BAD_REQUEST, "fail");
    }
    if notification.trade_status.is_paid() {
        merchant.mark_paid(&notification);
    }
    (StatusCode::OK, SUCCESS_BODY)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = format!("{}/tests/data/alipay_public_spki.pem", env!("CARGO_MANIFEST_DIR"));
    let merchant = Merchant {
        app_id: "2021000000000000".into(),
        seller_id: "2088102177000000".into(),
        alipay_public_key: PublicKeyRsa::from_file(key)?,
    };
    let app = Router::new().route("/pay/alipay/notify", post(notify)).with_state(Arc::new(merchant));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("listening on http://{}/pay/alipay/notify", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
