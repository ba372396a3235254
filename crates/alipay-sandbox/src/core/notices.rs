//! Notifications: every field Alipay sends for the trade's state, signed, stored and scheduled.

use alipay::TradeStatus;

use super::{BUYER_ID, BUYER_LOGON_ID, Outcome, Refusal, State, fmt_time, fmt_time_ms, new_notify_id};
use crate::Sandbox;
use crate::model::{DeliveryState, Notice, RefundRecord, Trade};

impl Sandbox {
    /// Builds, signs, stores and schedules a notification (if the trade has a `notify_url`).
    pub(crate) async fn queue_notice(
        &self,
        st: &mut State,
        t: &Trade,
        event: &str,
        refund: Option<&RefundRecord>,
    ) -> Outcome<()> {
        let Some(notify_url) = t.notify_url.clone() else { return Ok(()) };
        let now = st.now();
        let notify_id = new_notify_id(now);
        let paid = t.gmt_payment.is_some();
        let amount = t.total_amount.to_string();
        let fund_bill = serde_json::json!([{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}]).to_string();
        let mut f: Vec<(&str, String)> = vec![
            ("gmt_create", fmt_time(t.gmt_create)),
            ("charset", "utf-8".into()),
            ("seller_email", "sandbox_seller@sandbox.com".into()),
            ("subject", t.subject.clone()),
            ("body", t.body.clone().unwrap_or_default()),
            ("buyer_id", if paid { BUYER_ID.into() } else { String::new() }),
            ("invoice_amount", if paid { amount.clone() } else { String::new() }),
            ("notify_id", notify_id.clone()),
            ("fund_bill_list", if paid { fund_bill } else { String::new() }),
            ("notify_type", "trade_status_sync".into()),
            ("trade_status", t.status.as_str().into()),
            ("receipt_amount", if paid { amount.clone() } else { String::new() }),
            ("buyer_pay_amount", if paid { amount.clone() } else { String::new() }),
            ("app_id", t.app_id.clone()),
            ("sign_type", "RSA2".into()),
            ("seller_id", self.inner.seller_id.clone()),
            ("gmt_payment", t.gmt_payment.map(fmt_time).unwrap_or_default()),
            ("notify_time", fmt_time(now)),
            ("passback_params", t.passback_params.clone().unwrap_or_default()),
            ("version", "1.0".into()),
            ("out_trade_no", t.out_trade_no.clone()),
            ("total_amount", amount.clone()),
            ("trade_no", t.trade_no.clone()),
            ("auth_app_id", t.app_id.clone()),
            ("buyer_logon_id", if paid { BUYER_LOGON_ID.into() } else { String::new() }),
            ("point_amount", if paid { "0.00".into() } else { String::new() }),
            (
                "gmt_close",
                if t.status == TradeStatus::TradeClosed {
                    t.gmt_close.map(fmt_time).unwrap_or_default()
                } else {
                    String::new()
                },
            ),
        ];
        if let Some(r) = refund {
            f.push(("refund_fee", r.refund_fee_after.to_string()));
            f.push(("gmt_refund", fmt_time_ms(r.gmt_refund)));
            f.push(("out_biz_no", r.out_request_no.clone()));
        }
        // Never an empty field.
        let mut fields: Vec<(String, String)> =
            f.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_owned(), v)).collect();
        let sign = alipay::sign::sign_notification(&fields, &self.inner.alipay_key).map_err(Refusal::unavailable)?;
        fields.push(("sign".into(), sign));
        let notice = Notice {
            notify_id,
            app_id: t.app_id.clone(),
            out_trade_no: t.out_trade_no.clone(),
            event: event.to_owned(),
            notify_url,
            fields,
            created_at: now,
            next_due: Some(now),
            attempts: 0,
            state: DeliveryState::Pending,
        };
        self.save_notice(&notice).await.map_err(Refusal::unavailable)?;
        tracing::info!(notify_id = %notice.notify_id, event, out_trade_no = %t.out_trade_no, "notification queued");
        st.notices.push(notice);
        self.inner.wake.notify_one();
        Ok(())
    }
}
