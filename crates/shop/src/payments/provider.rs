//! What the shop asks of its payment provider: sign a cashier URL, check a notification or a
//! browser return, and ask about, refund or close a trade. Production uses `alipay::Client`,
//! pointed at Alipay or at the built-in sandbox; the rest of the shop sees only this trait.

use std::future::Future;
use std::pin::Pin;

use alipay::{
    CloseResponse, Notification, PagePay, Refund, RefundQueryResponse, RefundResponse, Return, TradeQueryResponse,
    TradeRef,
};

/// A call to the provider in flight.
pub type Call<'a, T> = Pin<Box<dyn Future<Output = alipay::Result<T>> + Send + 'a>>;

pub trait PaymentGateway: Send + Sync {
    /// The signed cashier URL for `order`: wap pay (phones) or page pay.
    fn pay_url(&self, order: &PagePay, wap: bool) -> alipay::Result<String>;
    /// A notification's decoded fields, verified and typed.
    fn verify_notification(&self, fields: &[(String, String)]) -> alipay::Result<Notification>;
    /// A browser return's query string, verified and typed.
    fn verify_return(&self, query: &str) -> alipay::Result<Return>;
    /// `alipay.trade.query`.
    fn query<'a>(&'a self, trade: &'a TradeRef) -> Call<'a, TradeQueryResponse>;
    /// `alipay.trade.refund`.
    fn refund<'a>(&'a self, refund: &'a Refund) -> Call<'a, RefundResponse>;
    /// `alipay.trade.fastpay.refund.query`.
    fn refund_query<'a>(&'a self, trade: &'a TradeRef, out_request_no: &'a str) -> Call<'a, RefundQueryResponse>;
    /// `alipay.trade.close`.
    fn close<'a>(&'a self, trade: &'a TradeRef) -> Call<'a, CloseResponse>;
}

impl PaymentGateway for alipay::Client {
    fn pay_url(&self, order: &PagePay, wap: bool) -> alipay::Result<String> {
        if wap { self.wap_pay_url(order) } else { self.page_pay_url(order) }
    }

    fn verify_notification(&self, fields: &[(String, String)]) -> alipay::Result<Notification> {
        self.verify_notification_fields(fields)
    }

    fn verify_return(&self, query: &str) -> alipay::Result<Return> {
        alipay::Client::verify_return(self, query)
    }

    fn query<'a>(&'a self, trade: &'a TradeRef) -> Call<'a, TradeQueryResponse> {
        Box::pin(self.trade_query(trade))
    }

    fn refund<'a>(&'a self, refund: &'a Refund) -> Call<'a, RefundResponse> {
        Box::pin(self.trade_refund(refund))
    }

    fn refund_query<'a>(&'a self, trade: &'a TradeRef, out_request_no: &'a str) -> Call<'a, RefundQueryResponse> {
        Box::pin(alipay::Client::refund_query(self, trade, out_request_no))
    }

    fn close<'a>(&'a self, trade: &'a TradeRef) -> Call<'a, CloseResponse> {
        Box::pin(self.trade_close(trade))
    }
}
