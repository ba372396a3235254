//! Alipay's byte format for synchronous answers: compact JSON, raw UTF-8, `/` escaped as `\/`,
//! members in insertion order. The signature covers exactly these bytes.

use serde_json::Value;

/// Writes `value` the way Alipay's gateway does.
///
/// ```
/// let v = serde_json::json!({"url": "http://a/b", "s": "语雀\"", "n": [1, true, null]});
/// assert_eq!(alipay_sandbox::json::to_alipay_json(&v), r#"{"url":"http:\/\/a\/b","s":"语雀\"","n":[1,true,null]}"#);
/// ```
pub fn to_alipay_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_serde() {
        let v = serde_json::json!({"a": "x/y\u{1}\n", "b": {"c": "}"}});
        let s = to_alipay_json(&v);
        assert_eq!(s, r#"{"a":"x\/y\u0001\n","b":{"c":"}"}}"#);
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }
}
