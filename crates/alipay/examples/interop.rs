//! Command-line bridge used by `interop/run.sh` to compare this crate with other implementations.
//!
//! ```text
//! interop sign-string    <private-key-file>  < text        → base64 RSA2 signature of the exact stdin bytes
//! interop sign-notify    <private-key-file>  < {json}      → the same JSON object plus "sign" (Alipay's rule)
//! interop verify-request <public-key-file>   < url|query   → OK, or FAIL and exit 1 (gateway's rule)
//! interop verify-notify  <public-key-file>   < {json}      → OK, or FAIL and exit 1 (notification rule)
//! interop cert-sn <app.crt> <alipay.crt> <root bundle>       → {"app_cert_sn":…,"alipay_cert_sn":…,"alipay_root_cert_sn":…}
//! ```

use std::io::Read;
use std::process::ExitCode;

use alipay::{PrivateKey, PublicKeyRsa, SignType};

fn stdin() -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| format!("reading stdin: {e}"))?;
    Ok(s)
}

fn json_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let v: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| format!("stdin JSON: {e}"))?;
    v.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            other => Err(format!("{k}: expected a string, got {other}")),
        })
        .collect()
}

fn run(args: &[String]) -> Result<String, String> {
    if let [cmd, app, alipay_cert, root] = args
        && cmd == "cert-sn"
    {
        let mode = alipay::CertMode::from_files(app, alipay_cert, root).map_err(|e| e.to_string())?;
        return Ok(serde_json::json!({
            "app_cert_sn": mode.app_cert_sn,
            "alipay_cert_sn": mode.alipay_cert_sn,
            "alipay_root_cert_sn": mode.alipay_root_cert_sn,
        })
        .to_string());
    }
    let (cmd, key) = match args {
        [cmd, key] => (cmd.as_str(), key.as_str()),
        _ => return Err("usage: interop <sign-string|sign-notify|verify-request|verify-notify> <key-file>".into()),
    };
    let e = |e: alipay::Error| e.to_string();
    match cmd {
        "sign-string" => {
            let key = PrivateKey::from_file(key).map_err(e)?;
            key.sign_rsa2(stdin()?.as_bytes()).map_err(e)
        }
        "sign-notify" => {
            let key = PrivateKey::from_file(key).map_err(e)?;
            let mut fields = json_pairs(&stdin()?)?;
            let sign = alipay::sign::sign_notification(&fields, &key).map_err(e)?;
            fields.push(("sign".into(), sign));
            let map: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
            Ok(serde_json::Value::Object(map).to_string())
        }
        "verify-request" => {
            let key = PublicKeyRsa::from_file(key).map_err(e)?;
            let input = stdin()?;
            let input = input.trim();
            let query = input.split_once('?').map_or(input, |(_, q)| q);
            let fields = alipay::sign::parse_form(query).map_err(e)?;
            alipay::sign::verify_request(&fields, &key).map_err(e)?;
            Ok("OK".into())
        }
        "verify-notify" => {
            let key = PublicKeyRsa::from_file(key).map_err(e)?;
            let fields = json_pairs(&stdin()?)?;
            let sign = fields.iter().find(|(k, _)| k == "sign").map(|(_, v)| v.clone()).ok_or("no sign field")?;
            alipay::sign::verify_notification(&fields, &sign, &key, SignType::Rsa2).map_err(e)?;
            Ok("OK".into())
        }
        other => Err(format!("unknown command {other:?}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!("FAIL: {err}");
            ExitCode::FAILURE
        }
    }
}
