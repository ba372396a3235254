//! The server API: `alipay.trade.query`, `.refund`, `.fastpay.refund.query`, `.close`, `.cancel`.

use alipay::{Money, TradeStatus};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{BUYER_ID, BUYER_LOGON_ID, Biz, Outcome, Refusal, State, fmt_time};
use crate::model::{RefundRecord, Trade, trade_key};
use crate::{App, Sandbox};

impl Sandbox {
    fn find_key(st: &State, app: &App, biz: &Biz) -> Outcome<String> {
        let by_out = biz.get("out_trade_no");
        let by_no = biz.get("trade_no");
        let key = match (&by_out, &by_no) {
            (None, None) => {
                return Err(Refusal::business(
                    "ACQ.INVALID_PARAMETER",
                    "参数无效: out_trade_no 和 trade_no 不能同时为空",
                ));
            }
            (Some(o), _) => trade_key(&app.app_id, o),
            (None, Some(n)) => st.by_trade_no.get(n).cloned().ok_or_else(Refusal::not_exist)?,
        };
        let t = st.trades.get(&key).ok_or_else(Refusal::not_exist)?;
        if t.app_id != app.app_id || by_no.as_ref().is_some_and(|n| *n != t.trade_no) {
            return Err(Refusal::not_exist());
        }
        Ok(key)
    }

    /// `alipay.trade.query`.
    pub(crate) async fn query(&self, app: &App, biz: &Biz) -> Outcome<Map<String, Value>> {
        let mut st = self.inner.state.lock().await;
        self.expire_due(&mut st).await?;
        let key = Self::find_key(&st, app, biz)?;
        let t = st.trades.get(&key).ok_or_else(Refusal::not_exist)?;
        let paid = t.gmt_payment.is_some();
        let amount = |m: Money| if paid { m.to_string() } else { "0.00".into() };
        let mut m = success();
        if paid {
            m.insert("buyer_logon_id".into(), BUYER_LOGON_ID.into());
        }
        m.insert("buyer_pay_amount".into(), amount(t.total_amount).into());
        if paid {
            m.insert("buyer_user_id".into(), BUYER_ID.into());
        }
        m.insert("invoice_amount".into(), amount(t.total_amount).into());
        m.insert("out_trade_no".into(), t.out_trade_no.clone().into());
        m.insert("point_amount".into(), "0.00".into());
        m.insert("receipt_amount".into(), amount(t.total_amount).into());
        if let Some(p) = t.gmt_payment {
            m.insert("send_pay_date".into(), fmt_time(p).into());
        }
        m.insert("total_amount".into(), t.total_amount.to_string().into());
        m.insert("trade_no".into(), t.trade_no.clone().into());
        m.insert("trade_status".into(), t.status.as_str().into());
        Ok(m)
    }

    /// `alipay.trade.refund`: partial and full; `out_request_no` is the idempotency key.
    pub(crate) async fn refund(&self, app: &App, biz: &Biz) -> Outcome<Map<String, Value>> {
        let amount = biz
            .money("refund_amount")?
            .ok_or_else(|| Refusal::missing("isv.missing-parameter", "缺少必选参数: refund_amount"))?;
        let mut st = self.inner.state.lock().await;
        self.expire_due(&mut st).await?;
        let now = st.now();
        let key = Self::find_key(&st, app, biz)?;
        let t = st.trades.get(&key).cloned().ok_or_else(Refusal::not_exist)?;
        let out_request_no = biz.get("out_request_no").unwrap_or_else(|| t.out_trade_no.clone());
        let answer = |t: &Trade, fund_change: bool, when: DateTime<Utc>| {
            let mut m = success();
            m.insert("buyer_logon_id".into(), BUYER_LOGON_ID.into());
            m.insert("buyer_user_id".into(), BUYER_ID.into());
            m.insert("fund_change".into(), if fund_change { "Y" } else { "N" }.into());
            m.insert("gmt_refund_pay".into(), fmt_time(when).into());
            m.insert("out_trade_no".into(), t.out_trade_no.clone().into());
            m.insert("refund_fee".into(), t.refund_fee.to_string().into());
            m.insert("send_back_fee".into(), if fund_change { amount.to_string() } else { "0.00".into() }.into());
            m.insert("trade_no".into(), t.trade_no.clone().into());
            m
        };
        if let Some(prev) = st
            .refunds
            .iter()
            .find(|r| r.app_id == app.app_id && r.trade_no == t.trade_no && r.out_request_no == out_request_no)
        {
            if prev.refund_amount != amount {
                return Err(Refusal::business(
                    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                    "退款金额与退款请求号对应的金额不一致",
                ));
            }
            return Ok(answer(&t, false, prev.gmt_refund));
        }
        match t.status {
            TradeStatus::TradeSuccess => {}
            TradeStatus::TradeFinished => return Err(Refusal::business("ACQ.TRADE_HAS_FINISHED", "交易已完结")),
            _ => return Err(Refusal::status_error()),
        }
        let refund = NewRefund { out_request_no, amount, reason: biz.get("refund_reason"), at: now };
        let trade = self.apply_refund(&mut st, &key, refund).await?;
        Ok(answer(&trade, true, now))
    }

    /// Records a refund on the paid trade at `key` (the caller checked its status and that its
    /// request number is new): the refund record, the trade's refunded total (closed once all is
    /// refunded), the notification. Refused when it would refund more than was paid.
    async fn apply_refund(&self, st: &mut State, key: &str, refund: NewRefund) -> Outcome<Trade> {
        let NewRefund { out_request_no, amount, reason: refund_reason, at: now } = refund;
        let trade = st.trades.get_mut(key).ok_or_else(Refusal::not_exist)?;
        let after = trade
            .refund_fee
            .checked_add(amount)
            .filter(|after| *after <= trade.total_amount)
            .ok_or_else(|| Refusal::business("ACQ.REASON_TRADE_REFUND_FEE_ERR", "退款金额超限"))?;
        let record = RefundRecord {
            app_id: trade.app_id.clone(),
            out_trade_no: trade.out_trade_no.clone(),
            trade_no: trade.trade_no.clone(),
            out_request_no,
            refund_amount: amount,
            refund_reason,
            refund_fee_after: after,
            gmt_refund: now,
        };
        if let Some(s) = &self.inner.store {
            s.save_refund(&record).await.map_err(Refusal::unavailable)?;
        }
        trade.refund_fee = after;
        if after == trade.total_amount {
            trade.status = TradeStatus::TradeClosed;
            trade.gmt_close = Some(now);
        }
        let trade = trade.clone();
        self.save_trade(&trade).await?;
        st.refunds.push(record.clone());
        tracing::info!(out_trade_no = %trade.out_trade_no, out_request_no = %record.out_request_no, %amount, "refunded");
        if self.inner.notify_on.refund {
            self.queue_notice(st, &trade, "refund", Some(&record)).await?;
        }
        Ok(trade)
    }

    /// `alipay.trade.fastpay.refund.query`.
    pub(crate) async fn refund_query(&self, app: &App, biz: &Biz) -> Outcome<Map<String, Value>> {
        let out_request_no = biz
            .get("out_request_no")
            .ok_or_else(|| Refusal::missing("isv.missing-parameter", "缺少必选参数: out_request_no"))?;
        let st = self.inner.state.lock().await;
        let key = Self::find_key(&st, app, biz)?;
        let t = st.trades.get(&key).ok_or_else(Refusal::not_exist)?;
        let mut m = success();
        if let Some(r) = st
            .refunds
            .iter()
            .find(|r| r.app_id == app.app_id && r.trade_no == t.trade_no && r.out_request_no == out_request_no)
        {
            m.insert("gmt_refund_pay".into(), fmt_time(r.gmt_refund).into());
            m.insert("out_request_no".into(), r.out_request_no.clone().into());
            m.insert("out_trade_no".into(), t.out_trade_no.clone().into());
            m.insert("refund_amount".into(), r.refund_amount.to_string().into());
            m.insert("refund_status".into(), "REFUND_SUCCESS".into());
            m.insert("total_amount".into(), t.total_amount.to_string().into());
            m.insert("trade_no".into(), t.trade_no.clone().into());
        }
        Ok(m)
    }

    /// `alipay.trade.close`: only `WAIT_BUYER_PAY`.
    pub(crate) async fn close_api(&self, app: &App, biz: &Biz) -> Outcome<Map<String, Value>> {
        let mut st = self.inner.state.lock().await;
        self.expire_due(&mut st).await?;
        let key = Self::find_key(&st, app, biz)?;
        let t = self.close_locked(&mut st, &key).await?;
        let mut m = success();
        m.insert("out_trade_no".into(), t.out_trade_no.into());
        m.insert("trade_no".into(), t.trade_no.into());
        Ok(m)
    }

    /// `alipay.trade.cancel`: closes an unpaid trade, refunds a paid one in full.
    pub(crate) async fn cancel(&self, app: &App, biz: &Biz) -> Outcome<Map<String, Value>> {
        let mut st = self.inner.state.lock().await;
        self.expire_due(&mut st).await?;
        let key = Self::find_key(&st, app, biz)?;
        let t = st.trades.get(&key).cloned().ok_or_else(Refusal::not_exist)?;
        let action = match t.status {
            TradeStatus::WaitBuyerPay => {
                self.close_locked(&mut st, &key).await?;
                "close"
            }
            TradeStatus::TradeClosed => "close",
            TradeStatus::TradeFinished => return Err(Refusal::status_error()),
            TradeStatus::TradeSuccess => {
                let remaining = t.total_amount.checked_sub(t.refund_fee).unwrap_or(Money::ZERO);
                let refund = NewRefund {
                    out_request_no: format!("cancel-{}", t.trade_no),
                    amount: remaining,
                    reason: Some("alipay.trade.cancel".to_owned()),
                    at: st.now(),
                };
                self.apply_refund(&mut st, &key, refund).await?;
                "refund"
            }
        };
        let mut m = success();
        m.insert("action".into(), action.into());
        m.insert("out_trade_no".into(), t.out_trade_no.into());
        m.insert("retry_flag".into(), "N".into());
        m.insert("trade_no".into(), t.trade_no.into());
        Ok(m)
    }
}

/// A refund about to be recorded.
struct NewRefund {
    out_request_no: String,
    amount: Money,
    reason: Option<String>,
    /// When it happens: the time the answer reports too.
    at: DateTime<Utc>,
}

fn success() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("code".into(), "10000".into());
    m.insert("msg".into(), "Success".into());
    m
}
