//! The response-span scanner on awkward inputs.

use alipay::response::scan;

#[test]
fn braces_and_escapes_inside_strings_do_not_end_the_span() {
    let body = r#"{"alipay_trade_query_response":{"code":"10000","msg":"}\"}\\","n":[1,{"a":"]"}]},"sign":"QUJD","alipay_cert_sn":"abc"}"#;
    let s = scan(body, "alipay_trade_query_response").unwrap();
    assert_eq!(s.span, r#"{"code":"10000","msg":"}\"}\\","n":[1,{"a":"]"}]}"#);
    assert_eq!(s.sign.as_deref(), Some("QUJD"));
    assert_eq!(s.alipay_cert_sn.as_deref(), Some("abc"));
}

#[test]
fn sign_before_response_and_whitespace_are_fine() {
    let body = " {\n \"sign\" : \"x\\/y\",\r\n\t\"alipay_trade_close_response\" :  {\"code\":\"40004\"} }\n";
    let s = scan(body, "alipay_trade_close_response").unwrap();
    assert_eq!(s.span, r#"{"code":"40004"}"#);
    assert_eq!(s.sign.as_deref(), Some("x/y"), "sign is JSON-decoded");
}

#[test]
fn error_response_is_found_when_the_method_member_is_absent() {
    let body = r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature"}}"#;
    let s = scan(body, "alipay_trade_query_response").unwrap();
    assert!(s.is_error_response);
    assert!(s.sign.is_none());
}

#[test]
fn malformed_documents_are_rejected() {
    for body in [
        "",
        "[]",
        r#"{"a_response":{"code":"1"}"#,
        r#"{"a_response":{"code":"1"}}}"#,
        r#"{"a_response":{"code":"1"]}"#,
        r#"{"a_response":{"code":"1}"#,
        r#"{"b_response":{}}"#,
        r#"{"a_response":"str"}"#,
        r#"{"a_response":{},"a_response":{}}"#,
        r#"{"a_response":{}} trailing"#,
        r#"{"a_response" {}}"#,
        r#"{"a_response":{},"sign":1}"#,
    ] {
        assert!(scan(body, "a_response").is_err(), "{body:?}");
    }
    // Duplicate members are an error even when they are escaped differently.
    assert!(scan(r#"{"a_response":{},"sign":"a","\u0073ign":"b"}"#, "a_response").is_err());
    // Deep nesting does not overflow the stack.
    let deep = format!(r#"{{"a_response":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    assert!(scan(&deep, "a_response").is_err(), "not an object");
    let deep = format!(r#"{{"a_response":{{"x":{}{}}}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    assert!(scan(&deep, "a_response").is_ok());
}
