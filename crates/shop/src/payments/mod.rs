//! Payments (Alipay): the signed page-pay URL of an unpaid order, the notification and browser
//! return at `/alipay/return/`, expiry and reconciliation jobs, and refunds.

pub mod apply;
pub mod gateway;
pub mod jobs;
pub(crate) mod notify;
pub mod provider;
pub mod refunds;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDateTime, TimeDelta, TimeZone, Utc};

use self::provider::PaymentGateway;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::entities::order_info;
use crate::http::routes::Routes;
use crate::trade::order_list::OrderRow;
use crate::trade::status::PayStatus;

pub fn routes(api: Routes) -> Routes {
    use utoipa_axum::routes;
    api.api(routes!(notify::browser_return, notify::receive_notification))
        .api(routes!(refunds::staff::list_refunds, refunds::staff::create_refund))
}

/// A cached URL is reused until this long before the order's deadline.
const URL_REFRESH_MARGIN: TimeDelta = TimeDelta::minutes(1);
/// Beyond this many cached URLs, expired ones are swept.
const URL_CACHE_SWEEP_AT: usize = 10_000;

/// How a cashier URL is signed: page pay (`alipay.trade.page.pay`) or, for phones, wap pay
/// (`alipay.trade.wap.pay`); and where the browser returns (default: the client's `return_url`).
#[derive(Debug, Clone, Default)]
pub struct Checkout {
    pub wap: bool,
    pub return_url: Option<String>,
}

/// What an order's pay URL is signed from.
pub struct PayTerms<'a> {
    pub id: i32,
    pub order_sn: &'a str,
    pub amount_fen: i64,
    pub pay_status: &'a str,
    pub expire_at: NaiveDateTime,
}

/// The terms of an order row or of the order list's row: both name these fields alike.
macro_rules! pay_terms_of {
    ($order:expr) => {
        PayTerms {
            id: $order.id,
            order_sn: &$order.order_sn,
            amount_fen: $order.order_mount_fen,
            pay_status: &$order.pay_status,
            expire_at: $order.expire_at,
        }
    };
}

impl<'a> From<&'a order_info::Model> for PayTerms<'a> {
    fn from(order: &'a order_info::Model) -> Self {
        pay_terms_of!(order)
    }
}

impl<'a> From<&'a OrderRow> for PayTerms<'a> {
    fn from(order: &'a OrderRow) -> Self {
        pay_terms_of!(order)
    }
}

/// The shop's Alipay side: the client, what notifications must match, and signed URLs cached per
/// order (signing costs an RSA operation; a list of many orders should not pay it every time).
pub struct Payments {
    /// Alipay, or the built-in sandbox.
    pub gateway: Arc<dyn PaymentGateway>,
    pub app_id: String,
    pub seller_id: Option<String>,
    pub payment_window: TimeDelta,
    /// Whether an order can still be paid is asked of this clock.
    clock: Arc<dyn Clock>,
    urls: Mutex<HashMap<i32, (SignedUrl, NaiveDateTime)>>,
}

/// A signed cashier URL, and the same as a JSON string (the order list writes it as it is: the
/// URLs are most of the list's bytes, and escaping them byte by byte was a fifth of its cost).
#[derive(Clone)]
struct SignedUrl {
    text: Arc<str>,
    json: Arc<str>,
}

/// The payment window Alipay accepts as `time_expire`, and a shop can sensibly hold stock for.
pub const PAYMENT_WINDOW_SECS: std::ops::RangeInclusive<u64> = 60..=15 * 24 * 3600;

impl Payments {
    /// Refuses a payment window outside [`PAYMENT_WINDOW_SECS`] (too short to pay, or stock held
    /// longer than Alipay keeps a trade open).
    pub fn new(config: &Config, gateway: Arc<dyn PaymentGateway>, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let window = config.alipay.payment_window_secs;
        if !PAYMENT_WINDOW_SECS.contains(&window) {
            anyhow::bail!(
                "alipay.payment_window_secs = {window}: it must be between {} (1 minute) and {} (15 days)",
                PAYMENT_WINDOW_SECS.start(),
                PAYMENT_WINDOW_SECS.end()
            );
        }
        Ok(Self {
            gateway,
            app_id: config.alipay.app_id.clone(),
            seller_id: config.alipay.seller_id.clone(),
            payment_window: TimeDelta::seconds(window as i64),
            clock,
            urls: Mutex::default(),
        })
    }

    /// The same payments on another clock (tests move theirs forward), with no URL signed yet.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Self {
        Self {
            gateway: self.gateway.clone(),
            app_id: self.app_id.clone(),
            seller_id: self.seller_id.clone(),
            payment_window: self.payment_window,
            clock,
            urls: Mutex::default(),
        }
    }

    /// The page-pay URL for an unpaid order before its deadline; `None` otherwise.
    pub fn pay_url<'a>(&self, order: impl Into<PayTerms<'a>>) -> Option<String> {
        self.signed_url(order.into()).map(|url| url.text.to_string())
    }

    /// `pay_url` as a JSON string, quotes included.
    pub fn pay_url_json<'a>(&self, order: impl Into<PayTerms<'a>>) -> Option<Arc<str>> {
        self.signed_url(order.into()).map(|url| url.json)
    }

    fn signed_url(&self, order: PayTerms<'_>) -> Option<SignedUrl> {
        if PayStatus::parse(order.pay_status) != Some(PayStatus::Paying) {
            return None;
        }
        let now = self.clock.now();
        if order.expire_at <= now {
            return None;
        }
        if let Some((url, expire_at)) = self.cached_urls().get(&order.id)
            && *expire_at == order.expire_at
            && now + URL_REFRESH_MARGIN < *expire_at
        {
            return Some(url.clone());
        }
        // Signed without the lock: an RSA signature takes most of a millisecond, and every order
        // list and new order on every worker thread reads this cache. Two requests may sign the
        // same order at once; either URL is valid.
        let text = self.sign_pay_url(&order, &Checkout::default())?;
        let json = serde_json::to_string(&text).ok()?;
        let url = SignedUrl { text: text.into(), json: json.into() };
        let mut urls = self.cached_urls();
        if urls.len() >= URL_CACHE_SWEEP_AT {
            urls.retain(|_, (_, expire_at)| *expire_at > now);
        }
        urls.insert(order.id, (url.clone(), order.expire_at));
        Some(url)
    }

    fn cached_urls(&self) -> std::sync::MutexGuard<'_, HashMap<i32, (SignedUrl, NaiveDateTime)>> {
        self.urls.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A freshly signed cashier URL for an unpaid order before its deadline, as `checkout` asks
    /// (the storefront's Pay button: wap pay on phones, back to the storefront afterwards).
    pub fn checkout_url<'a>(&self, order: impl Into<PayTerms<'a>>, checkout: &Checkout) -> Option<String> {
        let order = order.into();
        let payable =
            PayStatus::parse(order.pay_status) == Some(PayStatus::Paying) && order.expire_at > self.clock.now();
        payable.then(|| self.sign_pay_url(&order, checkout)).flatten()
    }

    fn sign_pay_url(&self, order: &PayTerms<'_>, checkout: &Checkout) -> Option<String> {
        let built = alipay::Money::from_fen(order.amount_fen)
            .and_then(|amount| {
                alipay::PagePay::new(order.order_sn.to_owned(), amount, format!("mxshop 订单 {}", order.order_sn))
            })
            .map(|pay| pay.with_timeout(alipay::PayTimeout::Absolute(Utc.from_utc_datetime(&order.expire_at))))
            .map(|pay| match &checkout.return_url {
                Some(url) => pay.with_return_url(url.clone()),
                None => pay,
            })
            .and_then(|pay| self.gateway.pay_url(&pay, checkout.wap));
        match built {
            Ok(url) => Some(url),
            Err(error) => {
                tracing::error!(order_id = order.id, %error, "cannot sign the page-pay URL");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use alipay::{
        CloseResponse, Notification, PagePay, Refund, RefundQueryResponse, RefundResponse, Return, TradeQueryResponse,
        TradeRef,
    };

    use super::provider::Call;
    use super::*;
    use crate::clock::SystemClock;

    /// Signs instantly, except the order `SLOW`, whose signature waits until the test lets it go.
    struct HeldSigner {
        entered: mpsc::SyncSender<()>,
        release: Mutex<mpsc::Receiver<()>>,
    }

    impl PaymentGateway for HeldSigner {
        fn pay_url(&self, order: &PagePay, _wap: bool) -> alipay::Result<String> {
            if order.out_trade_no == "SLOW" {
                let _ = self.entered.send(());
                let _ = self.release.lock().map(|release| release.recv());
            }
            Ok(format!("https://pay.example/{}", order.out_trade_no))
        }
        fn verify_notification(&self, _: &[(String, String)]) -> alipay::Result<Notification> {
            unreachable!("this test only signs")
        }
        fn verify_return(&self, _: &str) -> alipay::Result<Return> {
            unreachable!("this test only signs")
        }
        fn query<'a>(&'a self, _: &'a TradeRef) -> Call<'a, TradeQueryResponse> {
            unreachable!("this test only signs")
        }
        fn refund<'a>(&'a self, _: &'a Refund) -> Call<'a, RefundResponse> {
            unreachable!("this test only signs")
        }
        fn refund_query<'a>(&'a self, _: &'a TradeRef, _: &'a str) -> Call<'a, RefundQueryResponse> {
            unreachable!("this test only signs")
        }
        fn close<'a>(&'a self, _: &'a TradeRef) -> Call<'a, CloseResponse> {
            unreachable!("this test only signs")
        }
    }

    fn unpaid(id: i32, order_sn: &str) -> PayTerms<'_> {
        let expire_at = SystemClock.now() + TimeDelta::minutes(30);
        PayTerms { id, order_sn, amount_fen: 100, pay_status: PayStatus::Paying.as_str(), expire_at }
    }

    #[test]
    fn a_cached_url_is_answered_while_another_order_is_being_signed() {
        let (entered, signing) = mpsc::sync_channel(1);
        let (release, held) = mpsc::channel();
        let gateway = Arc::new(HeldSigner { entered, release: Mutex::new(held) });
        let payments = Arc::new(
            Payments::new(&Config::default(), gateway, Arc::new(SystemClock)).expect("the default window is valid"),
        );
        let cached = payments.pay_url(unpaid(1, "FAST")).expect("signed");

        let slow = std::thread::spawn({
            let payments = payments.clone();
            move || payments.pay_url(unpaid(2, "SLOW"))
        });
        signing.recv().expect("the slow order is being signed");
        let (answer, answered) = mpsc::channel();
        std::thread::spawn({
            let payments = payments.clone();
            move || answer.send(payments.pay_url(unpaid(1, "FAST")))
        });
        let meanwhile = answered.recv_timeout(Duration::from_secs(10));
        release.send(()).expect("the slow signature waits");

        assert_eq!(meanwhile, Ok(Some(cached)), "the cached URL waited for another order's signature");
        assert_eq!(slow.join().expect("no panic"), Some("https://pay.example/SLOW".to_owned()));
    }
}
