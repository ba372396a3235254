//! The request's query string as Django's `QueryDict` sees it: every pair kept, blanks included,
//! `get` answering the last value. Parsing never fails, so no query string can produce an error.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
        Self(pairs)
    }

    /// The last value given for `name`, like `QueryDict.get`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The last value for `name`, or `None` when absent or blank (django-filter ignores blanks).
    pub fn non_blank(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }

    /// This query with `name` set to `value` (or removed when `None`), encoded the way DRF's
    /// `replace_query_param` does: keys sorted, repeated values kept, `quote_plus` escaping.
    pub fn encode_with(&self, name: &str, value: Option<&str>) -> String {
        let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (key, val) in &self.0 {
            if key != name {
                grouped.entry(key).or_default().push(val);
            }
        }
        if let Some(value) = value {
            grouped.insert(name, vec![value]);
        }
        let mut out = String::new();
        for (key, values) in grouped {
            for val in values {
                if !out.is_empty() {
                    out.push('&');
                }
                quote_plus(key, &mut out);
                out.push('=');
                quote_plus(val, &mut out);
            }
        }
        out
    }
}

/// Python's `urllib.parse.quote_plus`: letters, digits and `_.-~` stay, space becomes `+`,
/// every other UTF-8 byte is `%XX`.
fn quote_plus(text: &str, out: &mut String) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(byte as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

/// `int(text)` as Python reads it for these parameters: surrounding whitespace, an optional sign,
/// ASCII digits. Values beyond i128 are treated as not numbers.
pub fn parse_python_int(text: &str) -> Option<i128> {
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    trimmed.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_blanks_and_answers_the_last_value() {
        let query = QueryParams::parse(Some("a=1&b=&a=2&flag"));
        assert_eq!(query.get("a"), Some("2"));
        assert_eq!(query.get("b"), Some(""));
        assert_eq!(query.non_blank("b"), None);
        assert_eq!(query.get("flag"), Some(""));
        assert_eq!(query.get("missing"), None);
    }

    #[test]
    fn re_encodes_sorted_like_drf() {
        let query = QueryParams::parse(Some("page=1&top_category=126&ordering=-add_time&pricemin=&pricemax="));
        assert_eq!(
            query.encode_with("page", Some("2")),
            "ordering=-add_time&page=2&pricemax=&pricemin=&top_category=126"
        );
        assert_eq!(query.encode_with("page", None), "ordering=-add_time&pricemax=&pricemin=&top_category=126");
        let search = QueryParams::parse(Some("search=%E8%A7%A3%E5%BF%A7+a%2Ab&x=~"));
        assert_eq!(search.encode_with("page", Some("3")), "page=3&search=%E8%A7%A3%E5%BF%A7+a%2Ab&x=~");
    }
}
