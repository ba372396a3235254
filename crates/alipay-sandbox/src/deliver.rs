//! The background worker: delivers notifications on Alipay's retry schedule (scaled) until the
//! merchant answers exactly `success`, and closes trades whose payment time is up.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{Attempt, DeliveryState, Notice};
use crate::{DELIVERY_SCHEDULE, Error, Result, Sandbox};

/// The longest the worker sleeps without looking again (covers clock changes).
const MAX_NAP: Duration = Duration::from_millis(500);
/// Per-delivery HTTP timeout.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a merchant's answer is kept.
const REPLY_LIMIT: usize = 500;

pub(crate) fn http_client() -> Result<reqwest::Client> {
    alipay::https_client_builder()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .timeout(DELIVERY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Config(format!("HTTP client: {e}")))
}

impl Sandbox {
    /// The interval after attempt `done` (1-based count of attempts made), scaled.
    fn interval_after(&self, done: u32) -> Option<Duration> {
        DELIVERY_SCHEDULE.get(done as usize).map(|d| d.mul_f64(self.inner.time_scale))
    }

    /// Runs the worker forever (see [`Sandbox::spawn_delivery`]).
    pub async fn run_delivery(self) {
        loop {
            let next = match self.tick().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "sandbox worker");
                    Some(MAX_NAP)
                }
            };
            let nap = next.unwrap_or(MAX_NAP).min(MAX_NAP);
            tokio::select! {
                () = tokio::time::sleep(nap) => {}
                () = self.inner.wake.notified() => {}
            }
        }
    }

    /// Starts due deliveries; returns how long until something else is due.
    async fn tick(&self) -> Result<Option<Duration>> {
        let (due, next) = self.claim_due().await?;
        for (n, dropped) in due {
            let me = self.clone();
            tokio::spawn(async move { me.deliver(n, dropped).await });
        }
        Ok(next)
    }

    /// Closes expired trades and runs every delivery attempt due now, waiting for them; returns
    /// how many attempts were made. For tests that drive the clock themselves (with or without
    /// the background worker: an attempt is never made twice).
    pub async fn deliver_due(&self) -> Result<usize> {
        let (due, _) = self.claim_due().await?;
        let count = due.len();
        for (n, dropped) in due {
            self.deliver(n, dropped).await;
        }
        Ok(count)
    }

    /// Closes expired trades and claims the due notifications (marking them in flight, deciding
    /// which attempts the test API drops); also returns how long until something else is due.
    async fn claim_due(&self) -> Result<(Vec<(Notice, bool)>, Option<Duration>)> {
        let mut st = self.inner.state.lock().await;
        self.expire_due(&mut st).await.map_err(|r| Error::Config(r.sub_msg))?;
        let now = st.now();
        let mut due = Vec::new();
        let mut next: Option<DateTime<Utc>> = None;
        for n in &st.notices {
            if n.state != DeliveryState::Pending || st.in_flight.contains(&n.notify_id) {
                continue;
            }
            match n.next_due {
                Some(t) if t <= now => due.push(n.clone()),
                Some(t) => next = Some(next.map_or(t, |x| x.min(t))),
                None => {}
            }
        }
        for t in st.trades.values() {
            if t.status == alipay::TradeStatus::WaitBuyerPay {
                next = Some(next.map_or(t.expire_at, |x| x.min(t.expire_at)));
            }
        }
        let mut claimed = Vec::with_capacity(due.len());
        for n in due {
            st.in_flight.insert(n.notify_id.clone());
            let dropped = st.drop_next > 0;
            if dropped {
                st.drop_next -= 1;
                if let Some(store) = &self.inner.store {
                    store.set_meta("drop_next", &st.drop_next.to_string()).await?;
                }
            }
            claimed.push((n, dropped));
        }
        Ok((claimed, next.map(|t| (t - now).to_std().unwrap_or(Duration::ZERO))))
    }

    async fn deliver(&self, n: Notice, dropped: bool) {
        let started = self.now().await;
        let (http_status, reply, success) = if dropped {
            (None, "dropped by the test API (nothing sent)".to_owned(), false)
        } else {
            self.post(&n).await
        };
        let mut st = self.inner.state.lock().await;
        // The next interval counts from the end of this attempt, so a retry never comes early.
        let finished = st.now();
        st.in_flight.remove(&n.notify_id);
        let Some(idx) = st.notices.iter().position(|x| x.notify_id == n.notify_id) else { return };
        let number = st.notices[idx].attempts + 1;
        let attempt =
            Attempt { notify_id: n.notify_id.clone(), number, at: started, http_status, reply, success, dropped };
        let notice = &mut st.notices[idx];
        notice.attempts = number;
        if success {
            notice.state = DeliveryState::Delivered;
            notice.next_due = None;
        } else {
            match self.interval_after(number) {
                Some(gap) => {
                    notice.next_due = Some(finished + chrono::Duration::from_std(gap).unwrap_or(chrono::Duration::MAX));
                }
                None => {
                    notice.state = DeliveryState::GaveUp;
                    notice.next_due = None;
                }
            }
        }
        let notice = notice.clone();
        tracing::info!(notify_id = %notice.notify_id, number, success, state = ?notice.state, "notification attempt");
        if let Some(store) = &self.inner.store {
            let saved = async {
                store.add_attempt(&attempt).await?;
                store.save_notice(&notice).await
            };
            if let Err(e) = saved.await {
                tracing::error!(error = %e, "recording a delivery attempt");
            }
        }
        st.attempts.push(attempt);
        drop(st);
        self.inner.wake.notify_one();
    }

    async fn post(&self, n: &Notice) -> (Option<u16>, String, bool) {
        let body = alipay::sign::encode_form(n.fields.iter().map(|(k, v)| (k, v)));
        let sent = self
            .inner
            .http
            .post(&n.notify_url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")
            .body(body)
            .send()
            .await;
        match sent {
            Err(e) => (None, format!("transport error: {e}"), false),
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.bytes().await {
                    Err(e) => (Some(status), format!("reading the answer: {e}"), false),
                    Ok(b) => {
                        let success = status == 200 && &b[..] == b"success";
                        let mut text = String::from_utf8_lossy(&b).into_owned();
                        if text.len() > REPLY_LIMIT {
                            let mut cut = REPLY_LIMIT;
                            while !text.is_char_boundary(cut) {
                                cut -= 1;
                            }
                            text.truncate(cut);
                            text.push('…');
                        }
                        (Some(status), text, success)
                    }
                }
            }
        }
    }
}
