//! The `/goods/` query language, parsed once at the edge: django-filter's `pricemin`, `pricemax`,
//! `top_category`, `is_new`, `is_hot`, `name`; DRF's `search` and `ordering`.

use crate::http::error::messages::NOT_A_NUMBER;
use crate::http::{ApiResult, FieldErrors, QueryParams};

/// Everything that narrows or orders the goods list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoodsFilter {
    /// Lowest `shop_price` in fen (inclusive).
    pub price_min_fen: Option<i64>,
    /// Highest `shop_price` in fen (inclusive).
    pub price_max_fen: Option<i64>,
    pub top_category: Option<TopCategory>,
    pub is_new: Option<bool>,
    pub is_hot: Option<bool>,
    pub name: Option<String>,
    /// Lower-cased terms; each must occur in the name, brief or description.
    pub search_terms: Vec<String>,
    pub ordering: Vec<OrderKey>,
}

/// `top_category` as given: an id, or a number no category can have (`1.5`, `1e20`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopCategory {
    Id(i32),
    MatchesNothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    SoldNum,
    ShopPrice,
    /// Newest first; the storefront's ordering, not one the API accepts (its fields are DRF's).
    AddTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey {
    pub field: OrderField,
    pub descending: bool,
}

impl GoodsFilter {
    /// Parses the query. The three numeric filters report their errors together, like a Django form.
    pub fn from_query(query: &QueryParams) -> ApiResult<Self> {
        let mut errors = FieldErrors::new();
        let mut number = |field: &str| match query.non_blank(field).map(Decimal::parse) {
            Some(Some(value)) => Some(value),
            Some(None) => {
                errors.add(field, NOT_A_NUMBER);
                None
            }
            None => None,
        };
        let price_min = number("pricemin");
        let price_max = number("pricemax");
        let top_category = number("top_category");
        let search_terms = query.get("search").map(search_terms).unwrap_or_default();
        if search_terms.len() > MAX_SEARCH_TERMS {
            errors.add("search", format!("搜索词最多{MAX_SEARCH_TERMS}个。"));
        } else if search_terms.iter().any(|term| term.chars().count() > MAX_SEARCH_TERM_CHARS) {
            errors.add("search", format!("每个搜索词最多{MAX_SEARCH_TERM_CHARS}个字符。"));
        }
        errors.into_result()?;
        Ok(Self {
            price_min_fen: price_min.map(|v| v.hundredths_ceil()),
            price_max_fen: price_max.map(|v| v.hundredths_floor()),
            top_category: top_category.map(|v| match v.as_i32() {
                Some(id) => TopCategory::Id(id),
                None => TopCategory::MatchesNothing,
            }),
            is_new: query.non_blank("is_new").and_then(parse_boolean),
            is_hot: query.non_blank("is_hot").and_then(parse_boolean),
            name: query.non_blank("name").map(str::to_owned),
            search_terms,
            ordering: query.get("ordering").map(ordering).unwrap_or_default(),
        })
    }
}

/// Each search term is a scan of the whole catalogue's text; a real query has a few short words.
const MAX_SEARCH_TERMS: usize = 10;
const MAX_SEARCH_TERM_CHARS: usize = 100;

/// django-filter's `BooleanWidget`: `true`/`1` and `false`/`0`, any case; anything else means
/// "do not filter".
fn parse_boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// DRF `SearchFilter`: NULs removed, commas are separators, split on whitespace.
fn search_terms(value: &str) -> Vec<String> {
    value.replace('\0', "").replace(',', " ").split_whitespace().map(str::to_lowercase).collect()
}

/// DRF `OrderingFilter` with `ordering_fields = ('sold_num', 'shop_price')`: unknown names dropped.
fn ordering(value: &str) -> Vec<OrderKey> {
    value
        .split(',')
        .filter_map(|term| {
            let term = term.trim();
            let (descending, name) = match term.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, term),
            };
            let field = match name {
                "sold_num" => OrderField::SoldNum,
                "shop_price" => OrderField::ShopPrice,
                _ => return None,
            };
            Some(OrderKey { field, descending })
        })
        .collect()
}

/// A finite decimal as Django's `DecimalField` accepts it (`" 1.5 "`, `"+2"`, `".5"`, `"1e3"`),
/// kept exact: `digits × 10^exponent`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    /// Significant digits without leading zeros; empty for zero.
    digits: String,
    exponent: i64,
}

/// Beyond this many digits a value is treated as infinite: prices and ids never get near it.
const MAX_DIGITS: i64 = 30;

impl Decimal {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], parse_exponent(&unsigned[at + 1..])?),
            None => (unsigned, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !is_digits(whole) || !is_digits(fraction) {
            return None;
        }
        let digits = format!("{whole}{fraction}").trim_start_matches('0').to_owned();
        let exponent = exponent - fraction.len() as i64;
        Some(Self { negative, digits, exponent })
    }

    /// The value times 10^shift, rounded toward minus infinity (`floor`) or plus infinity,
    /// saturated to the i64 range.
    fn scaled(&self, shift: i64, round_up: bool) -> i64 {
        if self.digits.is_empty() {
            return 0;
        }
        let exponent = self.exponent + shift;
        let len = self.digits.len() as i64;
        let (integer, has_remainder): (Option<i128>, bool) = if exponent >= 0 {
            if len + exponent > MAX_DIGITS {
                (None, false)
            } else {
                let zeros = "0".repeat(exponent as usize);
                (format!("{}{zeros}", self.digits).parse().ok(), false)
            }
        } else {
            let cut = len + exponent; // digits left of the decimal point
            if cut > MAX_DIGITS {
                (None, false)
            } else if cut <= 0 {
                (Some(0), true)
            } else {
                let (int_part, rest) = self.digits.split_at(cut as usize);
                (int_part.parse().ok(), rest.bytes().any(|b| b != b'0'))
            }
        };
        let Some(magnitude) = integer else {
            return if self.negative { i64::MIN } else { i64::MAX };
        };
        // Rounding away from zero happens when the direction and the sign agree.
        let bump = has_remainder && (round_up != self.negative);
        let magnitude = magnitude + i128::from(bump);
        let signed = if self.negative { -magnitude } else { magnitude };
        signed.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    fn hundredths_ceil(&self) -> i64 {
        self.scaled(2, true)
    }

    fn hundredths_floor(&self) -> i64 {
        self.scaled(2, false)
    }

    /// The value as an id, when it is a whole number in range.
    fn as_i32(&self) -> Option<i32> {
        let floor = self.scaled(0, false);
        (floor == self.scaled(0, true)).then(|| i32::try_from(floor).ok()).flatten()
    }
}

fn parse_exponent(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(query: &str) -> ApiResult<GoodsFilter> {
        GoodsFilter::from_query(&QueryParams::parse(Some(query)))
    }

    #[test]
    fn decimals_round_toward_the_inclusive_bound() {
        let f = filter("pricemin=9.999&pricemax=10.001").unwrap();
        assert_eq!((f.price_min_fen, f.price_max_fen), (Some(1000), Some(1000)));
        let f = filter("pricemin=%201.5%20&pricemax=1e1").unwrap();
        assert_eq!((f.price_min_fen, f.price_max_fen), (Some(150), Some(1000)));
        let f = filter("pricemin=-0.005&pricemax=.5").unwrap();
        assert_eq!((f.price_min_fen, f.price_max_fen), (Some(0), Some(50)));
        let f = filter("pricemin=-1.234&pricemax=-1.234").unwrap();
        assert_eq!((f.price_min_fen, f.price_max_fen), (Some(-123), Some(-124)));
        let f = filter("pricemin=1e400&pricemax=-1e40").unwrap();
        assert_eq!((f.price_min_fen, f.price_max_fen), (Some(i64::MAX), Some(i64::MIN)));
    }

    #[test]
    fn bad_numbers_are_reported_together() {
        let Err(crate::http::ApiError::Validation(errors)) = filter("pricemin=abc&pricemax=1&top_category=x") else {
            panic!("expected a validation error");
        };
        let mut expected = FieldErrors::single("pricemin", NOT_A_NUMBER);
        expected.add("top_category", NOT_A_NUMBER);
        assert_eq!(errors, expected);
        for bad in ["1.2.3", "NaN", "inf", "1e", "e5", ".", "1,5", "0x10", "1e9999999"] {
            assert!(filter(&format!("pricemax={bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn top_category_must_be_a_whole_id() {
        assert_eq!(filter("top_category=126").unwrap().top_category, Some(TopCategory::Id(126)));
        assert_eq!(filter("top_category=126.0").unwrap().top_category, Some(TopCategory::Id(126)));
        assert_eq!(filter("top_category=1.5").unwrap().top_category, Some(TopCategory::MatchesNothing));
        assert_eq!(filter("top_category=99999999999").unwrap().top_category, Some(TopCategory::MatchesNothing));
        assert_eq!(filter("top_category=").unwrap().top_category, None);
    }

    #[test]
    fn booleans_search_and_ordering() {
        let f =
            filter("is_new=TRUE&is_hot=yes&search=A,b%20%20c&ordering=-sold_num,%20shop_price,-add_time,id").unwrap();
        assert_eq!(f.is_new, Some(true));
        assert_eq!(f.is_hot, None);
        assert_eq!(f.search_terms, ["a", "b", "c"]);
        assert_eq!(
            f.ordering,
            [
                OrderKey { field: OrderField::SoldNum, descending: true },
                OrderKey { field: OrderField::ShopPrice, descending: false }
            ]
        );
        assert_eq!(filter("is_hot=0").unwrap().is_hot, Some(false));
    }
}
