//! A string-aware scanner that finds the exact bytes of the `*_response` member of a gateway
//! answer (the bytes Alipay signed) without re-serialising anything.

use crate::error::{Error, Result};

/// The top-level members of a gateway answer that matter, as raw spans of the input.
///
/// ```
/// let body = r#"{"alipay_trade_query_response":{"code":"10000","msg":"a}b\"}"},"sign":"c2ln"}"#;
/// let s = alipay::response::scan(body, "alipay_trade_query_response")?;
/// assert_eq!(s.span, r#"{"code":"10000","msg":"a}b\"}"}"#);
/// assert_eq!(s.sign.as_deref(), Some("c2ln"));
/// assert!(!s.is_error_response);
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned<'a> {
    /// The exact text of the response object, from its `{` to its matching `}`.
    pub span: &'a str,
    /// True if the span came from `error_response` rather than the expected member.
    pub is_error_response: bool,
    /// The decoded `sign` member, if present.
    pub sign: Option<String>,
    /// The decoded `alipay_cert_sn` member, if present (certificate mode).
    pub alipay_cert_sn: Option<String>,
}

/// The response member name for an API method (`alipay.trade.query` → `alipay_trade_query_response`).
///
/// ```
/// assert_eq!(alipay::response::response_key("alipay.trade.query"), "alipay_trade_query_response");
/// ```
pub fn response_key(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

/// Scans a gateway answer for `response_key` (or `error_response` when that is absent).
/// Rejects a document that is not one JSON object, that repeats a top-level member, or that
/// has neither member.
pub fn scan<'a>(body: &'a str, response_key: &str) -> Result<Scanned<'a>> {
    let members = top_level_members(body)?;
    let mut wanted = None;
    let mut error = None;
    let mut sign = None;
    let mut cert_sn = None;
    for (key, span) in members {
        match key.as_str() {
            k if k == response_key => wanted = Some(span),
            "error_response" => error = Some(span),
            "sign" => sign = Some(decode_string("sign", span)?),
            "alipay_cert_sn" => cert_sn = Some(decode_string("alipay_cert_sn", span)?),
            _ => {}
        }
    }
    let (span, is_error_response) = match (wanted, error) {
        (Some(s), _) => (s, false),
        (None, Some(s)) => (s, true),
        (None, None) => {
            return Err(Error::MalformedResponse(format!("no {response_key} or error_response member")));
        }
    };
    if !span.starts_with('{') {
        return Err(Error::MalformedResponse("the response member is not an object".into()));
    }
    Ok(Scanned { span, is_error_response, sign, alipay_cert_sn: cert_sn })
}

fn decode_string(field: &str, span: &str) -> Result<String> {
    serde_json::from_str::<String>(span)
        .map_err(|e| Error::MalformedResponse(format!("{field} is not a JSON string ({e})")))
}

/// The members of the top-level object as (decoded name, raw value span), refusing duplicates.
pub(crate) fn top_level_members(body: &str) -> Result<Vec<(String, &str)>> {
    let b = body.as_bytes();
    let bad = |what: &str, at: usize| Error::MalformedResponse(format!("{what} at byte {at}"));
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(bad("expected a JSON object", i));
    }
    i += 1;
    let mut out: Vec<(String, &str)> = Vec::new();
    i = skip_ws(b, i);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            i = skip_ws(b, i);
            if b.get(i) != Some(&b'"') {
                return Err(bad("expected a member name", i));
            }
            let key_end = skip_string(b, i).ok_or_else(|| bad("unterminated string", i))?;
            let key: String = serde_json::from_str(&body[i..key_end]).map_err(|_| bad("bad member name", i))?;
            i = skip_ws(b, key_end);
            if b.get(i) != Some(&b':') {
                return Err(bad("expected ':'", i));
            }
            i = skip_ws(b, i + 1);
            let end = skip_value(b, i).ok_or_else(|| bad("malformed value", i))?;
            if out.iter().any(|(k, _)| *k == key) {
                return Err(Error::MalformedResponse(format!("member {key:?} appears twice")));
            }
            out.push((key, &body[i..end]));
            i = skip_ws(b, end);
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return Err(bad("expected ',' or '}'", i)),
            }
        }
    }
    if skip_ws(b, i) != b.len() {
        return Err(bad("trailing data after the JSON object", i));
    }
    Ok(out)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// Given `b[i] == '"'`, the index just past the closing quote.
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// The index just past the value starting at `i`. Objects and arrays are matched with an explicit
/// stack (no recursion, so deep nesting cannot overflow); strings are skipped with their escapes.
/// Inner structure is validated later, when the span itself is parsed.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut stack = Vec::new();
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' => stack.push(b'}'),
                    b'[' => stack.push(b']'),
                    c @ (b'}' | b']') => {
                        if stack.pop()? != c {
                            return None;
                        }
                        if stack.is_empty() {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::top_level_members;

    #[test]
    fn top_level_members_are_raw_spans_and_unique() {
        let m = top_level_members(r#"{"a_response":{"x":"}"},"sign":"s"}"#).unwrap();
        assert_eq!(m, vec![("a_response".to_string(), r#"{"x":"}"}"#), ("sign".to_string(), r#""s""#)]);
        assert!(top_level_members(r#"{"sign":"a","sign":"b"}"#).is_err());
        assert!(top_level_members(r#"{"sign":"a","\u0073ign":"b"}"#).is_err(), "escaped duplicates too");
    }
}
