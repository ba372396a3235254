//! Fuzzes the response-span scanner: it never panics, a span it returns is a `{…}` slice of the
//! input, and for a valid JSON document the span parses to the same value as that member.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const KEY: &str = "alipay_trade_query_response";

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(scanned) = alipay::response::scan(body, KEY) else {
        return;
    };
    assert!(scanned.span.starts_with('{') && scanned.span.ends_with('}'));
    let start = scanned.span.as_ptr() as usize - body.as_ptr() as usize;
    assert_eq!(&body[start..start + scanned.span.len()], scanned.span);
    if let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(body) {
        let member = if scanned.is_error_response { "error_response" } else { KEY };
        let span: Value = serde_json::from_str(scanned.span).expect("span of a valid document parses");
        assert_eq!(doc.get(member), Some(&span));
    }
});
