//! What a buyer sends to place an order (`POST /orders/`, and the storefront's checkout form).

use crate::http::FieldErrors;
use crate::http::body::Payload;
use crate::http::fields::{Fields, Text};
use crate::money::Money;

/// `POST /orders/`: what the buyer may set on an order; everything else (lines, prices, total)
/// is the server's.
pub struct OrderForm {
    pub post_script: String,
    /// The total the buyer was shown (`order_mount`), if sent.
    pub shown_total: Option<ShownTotal>,
    pub pay_type: &'static str,
    pub address: String,
    pub signer_name: String,
    /// (sic: the original API's spelling)
    pub singer_mobile: String,
}

impl OrderForm {
    pub fn read(payload: &Payload) -> Result<Self, FieldErrors> {
        let mut fields = Fields::new(payload, false);
        let post_script = fields.text("post_script", Text::required(200)).flatten();
        let shown_total = fields.number("order_mount", false).map(ShownTotal);
        let pay_type = fields.choice("pay_type", false, &["alipay", "wechat"]).unwrap_or("alipay");
        let address = fields.text("address", Text::optional(100)).flatten().unwrap_or_default();
        let signer_name = fields.text("signer_name", Text::optional(20)).flatten().unwrap_or_default();
        let singer_mobile = fields.text("singer_mobile", Text::required(11)).flatten();
        match (post_script, singer_mobile) {
            (Some(post_script), Some(singer_mobile)) if fields.errors.is_empty() => {
                Ok(Self { post_script, shown_total, pay_type, address, signer_name, singer_mobile })
            }
            _ => Err(fields.errors),
        }
    }
}

/// The total a buyer was shown, in yuan, as the client sends it (a float). It only tells a stale
/// cart: the amount charged is always the server's.
#[derive(Debug, Clone, Copy)]
pub struct ShownTotal(pub(crate) f64);

impl ShownTotal {
    /// Within one fen of `total`.
    pub(crate) fn matches(self, total: Money) -> bool {
        (self.0 * 100.0 - total.fen() as f64).abs() <= 1.0 + 1e-6
    }
}
