//! Asks Alipay about a trade, then refunds part of it. Only a definite refusal (signed, and a
//! reason that will not pass) ends a refund as failed; anything else (a timeout, code 20000,
//! `ACQ.SYSTEM_ERROR`, an unsigned or unreadable answer) may have moved money, so retry with the
//! same `out_request_no` (Alipay applies it once) and then ask with `refund_query`. Never re-issue
//! it under a new number. Needs the `client` feature (on by default).
//!
//!     ALIPAY_GATEWAY=http://127.0.0.1:8000/sandbox/alipay/gateway.do \
//!     cargo run -p alipay --example query_and_refund -- <out_trade_no>
//!
//! Against the shop's built-in sandbox, use the shop's app key (`data/alipay/app_private.pem`)
//! and the sandbox's public key (`/sandbox/alipay/alipay_public_key.pem`).

use alipay::{Client, Config, KeyMode, Money, PrivateKey, PublicKeyRsa, Refund, TradeRef};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let test_key = |name: &str| format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let setting = |name: &str, default: String| std::env::var(name).unwrap_or(default);
    let client = Client::new(
        Config::new(
            setting("ALIPAY_APP_ID", "2021000000000000".into()),
            PrivateKey::from_file(setting("ALIPAY_APP_PRIVATE_KEY", test_key("app_private_pkcs8.pem")))?,
            KeyMode::PublicKey(PublicKeyRsa::from_file(setting(
                "ALIPAY_PUBLIC_KEY",
                test_key("alipay_public_spki.pem"),
            ))?),
        )
        .with_gateway(setting("ALIPAY_GATEWAY", alipay::SANDBOX_GATEWAY.into()))
        .with_timeout(std::time::Duration::from_secs(10)),
    )?;
    let out_trade_no = std::env::args().nth(1).ok_or("usage: query_and_refund <out_trade_no>")?;
    let trade = TradeRef::OutTradeNo(out_trade_no.clone());

    let found = client.trade_query(&trade).await?;
    println!("{out_trade_no}: {} of {}", found.trade_status.as_str(), found.total_amount);
    if !found.trade_status.is_paid() {
        return Ok(());
    }

    // One cent back. The request number names this refund: the same number is the same refund.
    let refund = Refund::new(trade.clone(), Money::from_fen(1)?, format!("{out_trade_no}-R1"))?;
    for attempt in 1..=3 {
        match client.trade_refund(&refund).await {
            Ok(done) => {
                println!("refunded {} in all (money moved this time: {})", done.refund_fee, done.fund_change);
                return Ok(());
            }
            Err(error) if error.is_definite_refusal() => return Err(format!("refused: {error}").into()),
            // Not a definite answer: the same request number again is safe.
            Err(error) => eprintln!("attempt {attempt}: outcome not known ({error})"),
        }
    }
    // Still not known: ask, and leave the rest to a job that asks again later.
    let asked = client.refund_query(&trade, &refund.out_request_no).await?;
    println!("after three answers that settled nothing, Alipay says refunded: {}", asked.refunded());
    Ok(())
}
