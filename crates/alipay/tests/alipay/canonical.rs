//! Canonical strings and form decoding.

use alipay::sign::{canonical_notification_string, canonical_request_string, encode_form, parse_form};

#[test]
fn request_string_sorts_drops_empty_and_sign_only() {
    let s = canonical_request_string([
        ("sign", "S"),
        ("sign_type", "RSA2"),
        ("b", "2"),
        ("a", "1"),
        ("return_url", ""),
        ("biz_content", r#"{"x":"a b&c=d"}"#),
        ("Z", "upper sorts first"),
    ]);
    assert_eq!(s, r#"Z=upper sorts first&a=1&b=2&biz_content={"x":"a b&c=d"}&sign_type=RSA2"#);
}

#[test]
fn notification_string_drops_sign_and_sign_type() {
    let s = canonical_notification_string([("sign", "S"), ("sign_type", "RSA2"), ("b", " 2 "), ("a", "")]);
    assert_eq!(s, "b= 2 ", "no trimming");
}

#[test]
fn byte_order_not_locale_order() {
    let s = canonical_request_string([("é", "1"), ("z", "2"), ("a_b", "3"), ("a", "4"), ("aB", "5")]);
    assert_eq!(s, "a=4&aB=5&a_b=3&z=2&é=1");
}

#[test]
fn form_decoding_is_done_exactly_once() {
    let p = parse_form("a=%2B+%252B&b=%E8%AF%AD%E9%9B%80&c=&d").unwrap();
    assert_eq!(p, crate::support::pairs(&[("a", "+ %2B"), ("b", "语雀"), ("c", ""), ("d", "")]));
    assert!(parse_form("a=%ZZ").is_err());
    assert!(parse_form("a=%FF").is_err(), "invalid UTF-8 is an error");
    let enc = encode_form([("s", "a+b/c= d&e")]);
    assert_eq!(enc, "s=a%2Bb%2Fc%3D+d%26e");
    assert_eq!(parse_form(&enc).unwrap(), crate::support::pairs(&[("s", "a+b/c= d&e")]));
}
