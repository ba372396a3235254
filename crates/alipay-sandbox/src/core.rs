//! The trade state machine: cashier, payment, refunds, close, cancel, timeouts, and the
//! notifications they produce. Every change is written through to the state file.

use std::collections::{BTreeMap, HashMap, HashSet};

use alipay::{Money, TradeStatus};
use chrono::{DateTime, Duration as ChronoDuration, NaiveTime, TimeZone, Utc};
use rand::Rng;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{Attempt, DeliveryState, Notice, RefundRecord, Trade, trade_key};
use crate::store::Loaded;
use crate::{App, Sandbox};

/// The sandbox buyer.
pub(crate) const BUYER_ID: &str = "2088102177846880";
pub(crate) const BUYER_LOGON_ID: &str = "sbx***@sandbox.com";

/// In-memory state (the source of truth while running; mirrored to the state file).
#[derive(Debug, Default)]
pub(crate) struct State {
    pub trades: BTreeMap<String, Trade>,
    pub by_trade_no: HashMap<String, String>,
    pub refunds: Vec<RefundRecord>,
    pub notices: Vec<Notice>,
    pub attempts: Vec<Attempt>,
    pub clock_offset_ms: i64,
    pub drop_next: u32,
    /// Notifications being sent right now (not persisted: after a crash they are sent again).
    pub in_flight: HashSet<String>,
}

impl State {
    pub fn from_loaded(l: Loaded) -> Self {
        let mut s = State {
            refunds: l.refunds,
            notices: l.notices,
            attempts: l.attempts,
            clock_offset_ms: l.clock_offset_ms,
            drop_next: l.drop_next,
            ..State::default()
        };
        for t in l.trades {
            s.by_trade_no.insert(t.trade_no.clone(), t.key());
            s.trades.insert(t.key(), t);
        }
        s
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + ChronoDuration::milliseconds(self.clock_offset_ms)
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut trades: Vec<Trade> = self.trades.values().cloned().collect();
        trades.sort_by_key(|t| t.gmt_create);
        Snapshot {
            now: self.now().to_rfc3339(),
            drop_next: self.drop_next,
            trades,
            refunds: self.refunds.clone(),
            notifications: self
                .notices
                .iter()
                .map(|n| NoticeView {
                    notice: n.clone(),
                    attempts: self.attempts.iter().filter(|a| a.notify_id == n.notify_id).cloned().collect(),
                })
                .collect(),
        }
    }
}

/// Everything the sandbox knows (the inspection JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// The sandbox clock (RFC 3339).
    pub now: String,
    /// How many upcoming delivery attempts the test API will drop.
    pub drop_next: u32,
    /// Trades, oldest first.
    pub trades: Vec<Trade>,
    /// Refunds that moved money, oldest first.
    pub refunds: Vec<RefundRecord>,
    /// Notifications with every delivery attempt.
    pub notifications: Vec<NoticeView>,
}

/// A notification and its attempts.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    /// The notification.
    #[serde(flatten)]
    pub notice: Notice,
    /// Its delivery attempts, in order.
    pub attempts: Vec<Attempt>,
}

/// The result of paying: the trade and, when the request had a `return_url`, the signed URL the
/// browser is sent to.
#[derive(Debug, Clone, Serialize)]
pub struct PayOutcome {
    /// The paid trade.
    pub trade: Trade,
    /// `return_url` with the signed return fields.
    pub return_url: Option<String>,
}

/// A refusal in Alipay's terms.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub msg: &'static str,
    pub sub_code: String,
    pub sub_msg: String,
}

impl Refusal {
    pub fn missing(sub_code: &str, sub_msg: impl Into<String>) -> Self {
        Refusal { code: "40001", msg: "Missing Required Arguments", sub_code: sub_code.into(), sub_msg: sub_msg.into() }
    }
    pub fn invalid(sub_code: &str, sub_msg: impl Into<String>) -> Self {
        Refusal { code: "40002", msg: "Invalid Arguments", sub_code: sub_code.into(), sub_msg: sub_msg.into() }
    }
    pub fn business(sub_code: &str, sub_msg: impl Into<String>) -> Self {
        Refusal { code: "40004", msg: "Business Failed", sub_code: sub_code.into(), sub_msg: sub_msg.into() }
    }
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "sandbox state error");
        Refusal {
            code: "20000",
            msg: "Service Currently Unavailable",
            sub_code: "isp.unknow-error".into(),
            sub_msg: "系统繁忙".into(),
        }
    }
    fn not_exist() -> Self {
        Refusal::business("ACQ.TRADE_NOT_EXIST", "交易不存在")
    }
    fn status_error() -> Self {
        Refusal::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
    }
}

type Outcome<T> = std::result::Result<T, Refusal>;

/// A decoded `biz_content`.
pub(crate) struct Biz(pub Map<String, Value>);

impl Biz {
    /// A field as text (numbers are accepted as their decimal text); empty counts as absent.
    pub fn get(&self, k: &str) -> Option<String> {
        match self.0.get(k)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn money(&self, k: &str) -> Outcome<Option<Money>> {
        match self.get(k) {
            None => Ok(None),
            Some(s) => s
                .parse::<Money>()
                .and_then(Money::check_payable)
                .map(Some)
                .map_err(|e| Refusal::business("ACQ.INVALID_PARAMETER", format!("参数无效: {k} ({e})"))),
        }
    }
}

/// What opening the cashier found.
pub(crate) enum CashierView {
    /// Waiting for the buyer: show Pay and Close.
    Open(Trade),
    /// Paid already.
    AlreadyPaid(Trade),
    /// Closed (timeout, close, full refund).
    Closed(Trade),
}

fn beijing_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&alipay::timestamp::beijing()).format("%Y%m%d").to_string()
}

fn new_trade_no(now: DateTime<Utc>) -> String {
    format!("{}22001{:011}", beijing_date(now), rand::rng().random_range(0..100_000_000_000u64))
}

fn new_notify_id(now: DateTime<Utc>) -> String {
    format!("{}0022{:016}", beijing_date(now), rand::rng().random_range(0..10_000_000_000_000_000u64))
}

fn fmt_time(t: DateTime<Utc>) -> String {
    alipay::timestamp::format_beijing(t)
}

fn fmt_time_ms(t: DateTime<Utc>) -> String {
    format!("{}.{:03}", fmt_time(t), t.timestamp_subsec_millis())
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
    async fn save_trade(&self, t: &Trade) -> Outcome<()> {
        match &self.inner.store {
            Some(s) => s.save_trade(t).await.map_err(Refusal::unavailable),
            None => Ok(()),
        }
    }

    pub(crate) async fn save_notice(&self, n: &Notice) -> crate::Result<()> {
        match &self.inner.store {
            Some(s) => s.save_notice(n).await,
            None => Ok(()),
        }
    }

    /// Closes unpaid trades whose time is up. Called before every operation and by the worker.
    pub(crate) async fn expire_due(&self, st: &mut State) -> Outcome<()> {
        let now = st.now();
        let due: Vec<String> = st
            .trades
            .values()
            .filter(|t| t.status == TradeStatus::WaitBuyerPay && t.expire_at <= now)
            .map(Trade::key)
            .collect();
        for key in due {
            let Some(t) = st.trades.get_mut(&key) else { continue };
            t.status = TradeStatus::TradeClosed;
            t.gmt_close = Some(t.expire_at);
            let t = t.clone();
            tracing::info!(out_trade_no = %t.out_trade_no, "trade timed out");
            self.save_trade(&t).await?;
            if self.inner.notify_on.close {
                self.queue_notice(st, &t, "close", None).await?;
            }
        }
        Ok(())
    }

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

    async fn close_locked(&self, st: &mut State, key: &str) -> Outcome<Trade> {
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
        let after = t
            .refund_fee
            .checked_add(amount)
            .filter(|after| *after <= t.total_amount)
            .ok_or_else(|| Refusal::business("ACQ.REASON_TRADE_REFUND_FEE_ERR", "退款金额超限"))?;
        let record = RefundRecord {
            app_id: app.app_id.clone(),
            out_trade_no: t.out_trade_no.clone(),
            trade_no: t.trade_no.clone(),
            out_request_no,
            refund_amount: amount,
            refund_reason: biz.get("refund_reason"),
            refund_fee_after: after,
            gmt_refund: now,
        };
        if let Some(s) = &self.inner.store {
            s.save_refund(&record).await.map_err(Refusal::unavailable)?;
        }
        let trade = st.trades.get_mut(&key).ok_or_else(Refusal::not_exist)?;
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
            self.queue_notice(&mut st, &trade, "refund", Some(&record)).await?;
        }
        Ok(answer(&trade, true, now))
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
        let now = st.now();
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
                let record = RefundRecord {
                    app_id: app.app_id.clone(),
                    out_trade_no: t.out_trade_no.clone(),
                    trade_no: t.trade_no.clone(),
                    out_request_no: format!("cancel-{}", t.trade_no),
                    refund_amount: remaining,
                    refund_reason: Some("alipay.trade.cancel".into()),
                    refund_fee_after: t.total_amount,
                    gmt_refund: now,
                };
                if let Some(s) = &self.inner.store {
                    s.save_refund(&record).await.map_err(Refusal::unavailable)?;
                }
                let trade = st.trades.get_mut(&key).ok_or_else(Refusal::not_exist)?;
                trade.refund_fee = trade.total_amount;
                trade.status = TradeStatus::TradeClosed;
                trade.gmt_close = Some(now);
                let trade = trade.clone();
                self.save_trade(&trade).await?;
                st.refunds.push(record.clone());
                if self.inner.notify_on.refund {
                    self.queue_notice(&mut st, &trade, "refund", Some(&record)).await?;
                }
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

fn success() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("code".into(), "10000".into());
    m.insert("msg".into(), "Success".into());
    m
}
