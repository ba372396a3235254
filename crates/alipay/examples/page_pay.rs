//! Builds a signed page-pay URL: send the buyer's browser there and Alipay shows its cashier.
//! Needs no network and no `client` feature.
//!
//!     cargo run -p alipay --example page_pay
//!
//! Set `ALIPAY_APP_ID`, `ALIPAY_APP_PRIVATE_KEY` (a PEM file) and `ALIPAY_PUBLIC_KEY` (Alipay's
//! public key, PEM) for your own app; without them the crate's test keys are used.

use alipay::{Client, Config, KeyMode, Money, PagePay, PayTimeout, PrivateKey, PublicKeyRsa, TimeoutExpress};

fn main() -> alipay::Result<()> {
    let test_key = |name: &str| format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let setting = |name: &str, default: String| std::env::var(name).unwrap_or(default);
    let config = Config::new(
        setting("ALIPAY_APP_ID", "2021000000000000".into()),
        PrivateKey::from_file(setting("ALIPAY_APP_PRIVATE_KEY", test_key("app_private_pkcs8.pem")))?,
        KeyMode::PublicKey(PublicKeyRsa::from_file(setting("ALIPAY_PUBLIC_KEY", test_key("alipay_public_spki.pem")))?),
    )
    .with_gateway(setting("ALIPAY_GATEWAY", alipay::SANDBOX_GATEWAY.into()))
    // Alipay posts the signed notification here (it must answer exactly `success`)…
    .with_notify_url("https://shop.example/pay/alipay/notify")
    // …and sends the buyer's browser back here (a hint only: wait for the notification).
    .with_return_url("https://shop.example/pay/alipay/return");
    let client = Client::new(config)?;

    // Amounts are exact: parse yuan text or give fen, never a float.
    let order = PagePay::new("20240101000001", "19.90".parse::<Money>()?, "Tea, 250 g")?
        .with_timeout(PayTimeout::Relative(TimeoutExpress::new("15m")?));
    println!("{}", client.page_pay_url(&order)?);
    Ok(())
}
