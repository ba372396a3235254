//! The buyer's side: opening the cashier (the trade is created on first sight), paying, closing,
//! and the signed browser return.

use std::collections::BTreeMap;

use alipay::{Money, TradeStatus};
use chrono::{DateTime, Duration as ChronoDuration, NaiveTime, TimeZone, Utc};

use super::{Biz, Outcome, PayOutcome, Refusal, State, fmt_time, new_trade_no};
use crate::model::{Trade, trade_key};
use crate::{App, Sandbox};

/// What opening the cashier found.
pub(crate) enum CashierView {
    /// Waiting for the buyer: show Pay and Close.
    Open(Trade),
    /// Paid already.
    AlreadyPaid(Trade),
    /// Closed (timeout, close, full refund).
    Closed(Trade),
}

/// When an unpaid trade created at `now` closes.
fn expiry(biz: &Biz, now: DateTime<Utc>) -> Outcome<DateTime<Utc>> {
    if let Some(abs) = biz.get("time_expire") {
        let t = alipay::timestamp::parse_beijing("time_expire", &abs)
            .map_err(|_| Refusal::business("ACQ.INVALID_PARAMETER", "参数无效: time_expire"))?;
        return Ok(t.with_timezone(&Utc));
    }
    if let Some(rel) = biz.get("timeout_express") {
        let bad = || Refusal::business("ACQ.INVALID_PARAMETER", "参数无效: timeout_express");
        alipay::TimeoutExpress::new(&rel).map_err(|_| bad())?;
        if rel == "1c" {
            let bj = now.with_timezone(&alipay::timestamp::beijing());
            let next = bj.date_naive().succ_opt().ok_or_else(bad)?;
            let midnight = alipay::timestamp::beijing()
                .from_local_datetime(&next.and_time(NaiveTime::MIN))
                .single()
                .ok_or_else(bad)?;
            return Ok(midnight.with_timezone(&Utc));
        }
        let (num, unit) = rel.split_at(rel.len() - 1);
        let n: i64 = num.parse().map_err(|_| bad())?;
        let minutes = match unit {
            "m" => n,
            "h" => n * 60,
            _ => n * 24 * 60,
        };
        return Ok(now + ChronoDuration::minutes(minutes));
    }
    Ok(now + ChronoDuration::days(15))
}

impl Sandbox {
    /// Opens the cashier for a page-pay / wap-pay request: creates the trade on first sight.
    pub(crate) async fn open_cashier(
        &self,
        app: &App,
        method: &str,
        params: &BTreeMap<String, String>,
        biz: &Biz,
    ) -> Outcome<CashierView> {
        let out_trade_no = biz
            .get("out_trade_no")
            .ok_or_else(|| Refusal::missing("isv.missing-parameter", "缺少必选参数: out_trade_no"))?;
        if out_trade_no.len() > 64 || !out_trade_no.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Refusal::business("ACQ.INVALID_PARAMETER", "参数无效: out_trade_no"));
        }
        let amount = biz
            .money("total_amount")?
            .ok_or_else(|| Refusal::missing("isv.missing-parameter", "缺少必选参数: total_amount"))?;
        let subject =
            biz.get("subject").ok_or_else(|| Refusal::missing("isv.missing-parameter", "缺少必选参数: subject"))?;
        let mut st = self.inner.state.lock().await;
        self.expire_due(&mut st).await?;
        let now = st.now();
        let key = trade_key(&app.app_id, &out_trade_no);
        if let Some(t) = st.trades.get(&key) {
            if t.total_amount != amount {
                return Err(Refusal::business(
                    "ACQ.CONTEXT_INCONSISTENT",
                    format!(
                        "交易信息被篡改: out_trade_no {out_trade_no} was opened with total_amount {}",
                        t.total_amount
                    ),
                ));
            }
            return Ok(match t.status {
                TradeStatus::WaitBuyerPay => CashierView::Open(t.clone()),
                TradeStatus::TradeSuccess | TradeStatus::TradeFinished => CashierView::AlreadyPaid(t.clone()),
                TradeStatus::TradeClosed => CashierView::Closed(t.clone()),
            });
        }
        let trade = Trade {
            app_id: app.app_id.clone(),
            out_trade_no,
            trade_no: new_trade_no(now),
            status: TradeStatus::WaitBuyerPay,
            total_amount: amount,
            subject,
            body: biz.get("body"),
            passback_params: biz.get("passback_params"),
            notify_url: params.get("notify_url").filter(|v| !v.is_empty()).cloned(),
            return_url: params.get("return_url").filter(|v| !v.is_empty()).cloned(),
            pay_method: method.to_owned(),
            gmt_create: now,
            gmt_payment: None,
            gmt_close: None,
            expire_at: expiry(biz, now)?,
            refund_fee: Money::ZERO,
        };
        if trade.expire_at <= now {
            return Err(Refusal::business("ACQ.TRADE_HAS_CLOSE", "交易已关闭: time_expire is in the past"));
        }
        self.save_trade(&trade).await?;
        st.by_trade_no.insert(trade.trade_no.clone(), key.clone());
        st.trades.insert(key, trade.clone());
        tracing::info!(app_id = %app.app_id, out_trade_no = %trade.out_trade_no, trade_no = %trade.trade_no, "cashier opened");
        Ok(CashierView::Open(trade))
    }

    /// The buyer pays from the cashier.
    pub(crate) async fn pay_trade_no(&self, trade_no: &str) -> std::result::Result<PayOutcome, String> {
        let mut st = self.inner.state.lock().await;
        self.expire_due(&mut st).await.map_err(|r| r.sub_msg)?;
        let now = st.now();
        let key = st.by_trade_no.get(trade_no).cloned().ok_or_else(|| format!("no trade {trade_no}"))?;
        let t = st.trades.get_mut(&key).ok_or_else(|| format!("no trade {trade_no}"))?;
        match t.status {
            TradeStatus::WaitBuyerPay => {}
            TradeStatus::TradeSuccess | TradeStatus::TradeFinished => {
                return Err(format!("trade {} is already paid", t.out_trade_no));
            }
            TradeStatus::TradeClosed => return Err(format!("trade {} is closed", t.out_trade_no)),
        }
        t.status = TradeStatus::TradeSuccess;
        t.gmt_payment = Some(now);
        let t = t.clone();
        self.save_trade(&t).await.map_err(|r| r.sub_msg)?;
        tracing::info!(out_trade_no = %t.out_trade_no, trade_no = %t.trade_no, "paid");
        if self.inner.notify_on.payment {
            self.queue_notice(&mut st, &t, "payment", None).await.map_err(|r| r.sub_msg)?;
        }
        drop(st);
        let return_url = match &t.return_url {
            Some(url) => Some(self.signed_return_url(url, &t, now).map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(PayOutcome { trade: t, return_url })
    }

    /// The buyer closes the cashier: the unpaid trade is closed.
    pub(crate) async fn close_trade_no(&self, trade_no: &str) -> std::result::Result<(), String> {
        let mut st = self.inner.state.lock().await;
        self.expire_due(&mut st).await.map_err(|r| r.sub_msg)?;
        let key = st.by_trade_no.get(trade_no).cloned().ok_or_else(|| format!("no trade {trade_no}"))?;
        self.close_locked(&mut st, &key).await.map(|_| ()).map_err(|r| r.sub_msg)
    }

    pub(super) async fn close_locked(&self, st: &mut State, key: &str) -> Outcome<Trade> {
        let now = st.now();
        let t = st.trades.get_mut(key).ok_or_else(Refusal::not_exist)?;
        if t.status != TradeStatus::WaitBuyerPay {
            return Err(Refusal::status_error());
        }
        t.status = TradeStatus::TradeClosed;
        t.gmt_close = Some(now);
        let t = t.clone();
        self.save_trade(&t).await?;
        if self.inner.notify_on.close {
            self.queue_notice(st, &t, "close", None).await?;
        }
        Ok(t)
    }

    fn signed_return_url(&self, url: &str, t: &Trade, now: DateTime<Utc>) -> alipay::Result<String> {
        let mut fields: Vec<(String, String)> = vec![
            ("charset".into(), "utf-8".into()),
            ("out_trade_no".into(), t.out_trade_no.clone()),
            ("method".into(), format!("{}.return", t.pay_method)),
            ("total_amount".into(), t.total_amount.to_string()),
            ("trade_no".into(), t.trade_no.clone()),
            ("auth_app_id".into(), t.app_id.clone()),
            ("version".into(), "1.0".into()),
            ("app_id".into(), t.app_id.clone()),
            ("sign_type".into(), "RSA2".into()),
            ("seller_id".into(), self.inner.seller_id.clone()),
            ("timestamp".into(), fmt_time(now)),
        ];
        let sign = alipay::sign::sign_notification(&fields, &self.inner.alipay_key)?;
        fields.insert(4, ("sign".into(), sign));
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(format!("{url}{sep}{}", alipay::sign::encode_form(fields.iter().map(|(k, v)| (k, v)))))
    }
}
