//! Canonical strings ("string to sign") and RSA2 signing/verification of parameter sets.
//!
//! Rule: drop the excluded names, drop pairs whose value is empty, sort by name in byte order,
//! join `name=value` with `&`. No URL-encoding, no trimming. Requests exclude only `sign`;
//! notifications and browser returns exclude `sign` and `sign_type`.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKeyRsa, SignType};

/// Names excluded from the canonical string of a request we send to the gateway.
pub const REQUEST_EXCLUDED: &[&str] = &["sign"];
/// Names excluded from the canonical string of a notification or browser return.
pub const NOTIFICATION_EXCLUDED: &[&str] = &["sign", "sign_type"];

/// Builds the canonical string of `params`, leaving out `excluded` names and empty values.
///
/// ```
/// let s = alipay::sign::canonical_string(
///     [("b", "2"), ("a", "x y&z"), ("sign", "zzz"), ("empty", "")],
///     alipay::sign::REQUEST_EXCLUDED,
/// );
/// assert_eq!(s, "a=x y&z&b=2");
/// ```
pub fn canonical_string<I, K, V>(params: I, excluded: &[&str]) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut kept: Vec<(K, V)> =
        params.into_iter().filter(|(k, v)| !v.as_ref().is_empty() && !excluded.contains(&k.as_ref())).collect();
    // Byte order of UTF-8 equals code-point order; a stable sort keeps duplicates deterministic.
    kept.sort_by(|a, b| a.0.as_ref().as_bytes().cmp(b.0.as_ref().as_bytes()));
    let mut out = String::new();
    for (i, (k, v)) in kept.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k.as_ref());
        out.push('=');
        out.push_str(v.as_ref());
    }
    out
}

/// The canonical string of a request to the gateway (only `sign` excluded; `sign_type` is signed).
///
/// ```
/// let s = alipay::sign::canonical_request_string([("sign_type", "RSA2"), ("app_id", "1"), ("sign", "x")]);
/// assert_eq!(s, "app_id=1&sign_type=RSA2");
/// ```
pub fn canonical_request_string(params: impl IntoIterator<Item = (impl AsRef<str>, impl AsRef<str>)>) -> String {
    canonical_string(params, REQUEST_EXCLUDED)
}

/// The canonical string of a notification or browser return (`sign` and `sign_type` excluded).
///
/// ```
/// let s = alipay::sign::canonical_notification_string([("sign_type", "RSA2"), ("a", "1"), ("b", "")]);
/// assert_eq!(s, "a=1");
/// ```
pub fn canonical_notification_string(params: impl IntoIterator<Item = (impl AsRef<str>, impl AsRef<str>)>) -> String {
    canonical_string(params, NOTIFICATION_EXCLUDED)
}

/// Signs a request's parameters: returns the `sign` value (RSA2) over the request canonical string.
/// The parameters should already contain `sign_type=RSA2`.
///
/// ```
/// # let key = alipay::PrivateKey::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/app_private_pkcs8.pem")).unwrap();
/// let params = vec![("app_id".to_string(), "2021".to_string()), ("sign_type".into(), "RSA2".into())];
/// let sign = alipay::sign::sign_request(&params, &key)?;
/// assert_eq!(sign.len(), 344);
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn sign_request<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], key: &PrivateKey) -> Result<String> {
    let text = canonical_request_string(params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
    key.sign_rsa2(text.as_bytes())
}

/// Verifies a request's parameters as a gateway does: the signature is the `sign` parameter,
/// the algorithm is named by `sign_type` (`RSA2` when absent), the string covers every other
/// non-empty parameter.
///
/// ```
/// # let key = alipay::PrivateKey::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/app_private_pkcs8.pem")).unwrap();
/// # let public = key.public_key()?;
/// let mut params = vec![("app_id".to_string(), "2021".to_string()), ("sign_type".into(), "RSA2".into())];
/// let sign = alipay::sign::sign_request(&params, &key)?;
/// params.push(("sign".into(), sign));
/// alipay::sign::verify_request(&params, &public)?;
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn verify_request<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], key: &PublicKeyRsa) -> Result<()> {
    let map = unique_map(params)?;
    let sign = map.get("sign").copied().ok_or_else(|| Error::BadSignature("no sign parameter".into()))?;
    let sign_type = match map.get("sign_type") {
        Some(t) if !t.is_empty() => t.parse()?,
        _ => SignType::Rsa2,
    };
    let text = canonical_request_string(map.iter().map(|(k, v)| (*k, *v)));
    key.verify(sign_type, text.as_bytes(), sign)
}

/// Signs a notification or browser return as Alipay does (over the string without `sign`
/// and `sign_type`), returning the `sign` value. Useful for gateways, sandboxes and tests.
///
/// ```
/// # let key = alipay::PrivateKey::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/app_private_pkcs8.pem")).unwrap();
/// let params = [("out_trade_no", "1"), ("sign_type", "RSA2")];
/// let sign = alipay::sign::sign_notification(&params, &key)?;
/// assert!(alipay::sign::verify_notification(&params, &sign, &key.public_key()?, alipay::SignType::Rsa2).is_ok());
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn sign_notification<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], key: &PrivateKey) -> Result<String> {
    let text = canonical_notification_string(params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
    key.sign_rsa2(text.as_bytes())
}

/// Verifies a notification's or return's signature `sign` over its parameters (any `sign` and
/// `sign_type` among them are left out), with the algorithm `sign_type`.
///
/// ```
/// # let key = alipay::PrivateKey::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/alipay_private_pkcs8.pem"))?;
/// let params = [("out_trade_no", "1"), ("total_amount", "0.10")];
/// let sign = alipay::sign::sign_notification(&params, &key)?;
/// let public = key.public_key()?;
/// assert!(alipay::sign::verify_notification(&params, &sign, &public, alipay::SignType::Rsa2).is_ok());
/// assert!(alipay::sign::verify_notification(&[("out_trade_no", "2")], &sign, &public, alipay::SignType::Rsa2).is_err());
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn verify_notification<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    sign: &str,
    key: &PublicKeyRsa,
    sign_type: SignType,
) -> Result<()> {
    let text = canonical_notification_string(params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
    key.verify(sign_type, text.as_bytes(), sign)
}

/// Decodes an `application/x-www-form-urlencoded` body or a query string (a leading `?` is
/// allowed) into pairs, decoding each value exactly once (`+` is a space, `%XX` are UTF-8 bytes).
///
/// ```
/// let p = alipay::sign::parse_form("?a=x+y&b=%E4%BD%A0%2B")?;
/// assert_eq!(p, vec![("a".to_string(), "x y".to_string()), ("b".into(), "你+".into())]);
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn parse_form(body: &str) -> Result<Vec<(String, String)>> {
    let body = body.strip_prefix('?').unwrap_or(body);
    let mut out = Vec::new();
    for part in body.split('&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = form_decode(k).map_err(|reason| malformed(k, k, reason))?;
        let v = form_decode(v).map_err(|reason| malformed(&k, v, reason))?;
        out.push((k, v));
    }
    Ok(out)
}

fn malformed(field: &str, value: &str, reason: &str) -> Error {
    Error::MalformedField { field: field.to_owned(), value: value.to_owned(), reason: reason.to_owned() }
}

/// Decodes one form component: `+` is a space, `%XX` a byte; the bytes must be UTF-8.
fn form_decode(s: &str) -> std::result::Result<String, &'static str> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c))) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => return Err("bad percent-escape"),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "not valid UTF-8 after percent-decoding")
}

/// Encodes pairs as `application/x-www-form-urlencoded` (every reserved byte percent-encoded,
/// so `+ / =` in a signature survive).
///
/// ```
/// assert_eq!(alipay::sign::encode_form([("sign", "a+b/c="), ("s", "x y")]), "sign=a%2Bb%2Fc%3D&s=x+y");
/// ```
pub fn encode_form<I, K, V>(params: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k.as_ref(), v.as_ref());
    }
    ser.finish()
}

/// Collects pairs into a map, refusing a name given twice (an ambiguity an attacker could use).
pub(crate) fn unique_map<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Result<BTreeMap<&str, &str>> {
    let mut map = BTreeMap::new();
    for (k, v) in params {
        if map.insert(k.as_ref(), v.as_ref()).is_some() {
            return Err(Error::MalformedField {
                field: k.as_ref().to_owned(),
                value: v.as_ref().to_owned(),
                reason: "parameter given more than once".into(),
            });
        }
    }
    Ok(map)
}
