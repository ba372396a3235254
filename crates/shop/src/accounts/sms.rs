//! SMS delivery behind a trait: `LogSms` (development: the code goes to the server log and an
//! in-memory sink tests read) and `Yunpian` (the v2 single-send API).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{Secret, SmsConfig, SmsProvider};

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SmsError>> + Send + 'a>>;

/// A provider's refusal, shown to the client as `{"mobile": "<message>"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SmsError(pub String);

pub trait SmsSender: Send + Sync {
    /// Sends `code` to `mobile`.
    fn send<'a>(&'a self, mobile: &'a str, code: &'a str) -> SendFuture<'a>;
}

/// Builds the configured provider.
pub fn from_config(config: &SmsConfig, http: reqwest::Client) -> anyhow::Result<std::sync::Arc<dyn SmsSender>> {
    Ok(match config.provider {
        SmsProvider::Log => std::sync::Arc::new(LogSms::default()),
        SmsProvider::Yunpian => {
            let api_key = config
                .yunpian_api_key
                .clone()
                .ok_or_else(|| anyhow::anyhow!("sms.provider is \"yunpian\" but sms.yunpian_api_key is not set"))?;
            std::sync::Arc::new(Yunpian {
                http,
                url: config.yunpian_url.clone(),
                api_key,
                template: config.text_template.clone(),
            })
        }
    })
}

/// Writes codes to the log and remembers them.
#[derive(Default)]
pub struct LogSms {
    sent: Mutex<Vec<(String, String)>>,
}

impl LogSms {
    /// The last code sent to `mobile`.
    pub fn last_code(&self, mobile: &str) -> Option<String> {
        let sent = self.sent.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        sent.iter().rev().find(|(to, _)| to == mobile).map(|(_, code)| code.clone())
    }
}

impl SmsSender for LogSms {
    fn send<'a>(&'a self, mobile: &'a str, code: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            tracing::info!(mobile, code, "SMS code (log provider: not sent to a phone)");
            self.sent
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push((mobile.to_owned(), code.to_owned()));
            Ok(())
        })
    }
}

/// Yunpian's `v2/sms/single_send.json`: a form POST of `apikey`, `mobile`, `text`; success is a
/// JSON reply whose `code` is 0.
pub struct Yunpian {
    http: reqwest::Client,
    url: String,
    api_key: Secret,
    template: String,
}

#[derive(Deserialize)]
struct YunpianReply {
    code: i64,
    #[serde(default)]
    msg: String,
}

const YUNPIAN_TIMEOUT: Duration = Duration::from_secs(10);

impl SmsSender for Yunpian {
    fn send<'a>(&'a self, mobile: &'a str, code: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let text = self.template.replace("{code}", code);
            let form = [("apikey", self.api_key.expose()), ("mobile", mobile), ("text", text.as_str())];
            let response =
                self.http.post(&self.url).timeout(YUNPIAN_TIMEOUT).form(&form).send().await.map_err(|error| {
                    tracing::error!(%error, "Yunpian request failed");
                    SmsError("短信发送失败，请稍后再试".into())
                })?;
            let status = response.status();
            let reply: YunpianReply = response.json().await.map_err(|error| {
                tracing::error!(%error, %status, "Yunpian answered something that is not its JSON");
                SmsError("短信发送失败，请稍后再试".into())
            })?;
            if reply.code == 0 {
                Ok(())
            } else {
                tracing::warn!(code = reply.code, msg = %reply.msg, "Yunpian refused the message");
                Err(SmsError(if reply.msg.is_empty() { "短信发送失败".into() } else { reply.msg }))
            }
        })
    }
}
