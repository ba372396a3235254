//! DRF's `PageNumberPagination` for `/goods/`: `page` and `page_size` rules, the envelope, and the
//! absolute `next`/`previous` links.

use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::origin::RequestUrl;
use super::query::{QueryParams, parse_python_int};

pub const DEFAULT_PAGE_SIZE: u64 = 12;
pub const MAX_PAGE_SIZE: u64 = 100;

/// What the client asked for, before the count is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: PageNumber,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageNumber {
    Number(u64),
    Last,
}

/// A page resolved against the row count: which rows to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    pub number: u64,
    pub size: u64,
    pub pages: u64,
}

impl PageWindow {
    pub fn offset(&self) -> u64 {
        (self.number - 1) * self.size
    }
}

impl PageRequest {
    /// `page`: a positive integer or `last` (else 404 `无效页面。`); `page_size`: a positive integer
    /// capped at 100, anything else falls back to 12.
    pub fn from_query(query: &QueryParams) -> ApiResult<Self> {
        let size = query
            .get("page_size")
            .and_then(parse_python_int)
            .filter(|size| *size > 0)
            .map_or(DEFAULT_PAGE_SIZE, |size| size.min(MAX_PAGE_SIZE as i128) as u64);
        let page = match query.get("page") {
            None => PageNumber::Number(1),
            Some("last") => PageNumber::Last,
            Some(text) => match parse_python_int(text) {
                Some(number) if number >= 1 => PageNumber::Number(u64::try_from(number).unwrap_or(u64::MAX)),
                _ => return Err(ApiError::InvalidPage),
            },
        };
        Ok(Self { page, size })
    }

    /// The first row of a numbered page, known before the count (`None` for `last`).
    pub fn offset_before_count(&self) -> Option<u64> {
        match self.page {
            PageNumber::Number(number) => Some((number - 1).saturating_mul(self.size)),
            PageNumber::Last => None,
        }
    }

    /// Django's `Paginator.page`: past the end is 404, except page 1 of an empty result.
    pub fn resolve(&self, count: u64) -> ApiResult<PageWindow> {
        let pages = count.div_ceil(self.size).max(1);
        let number = match self.page {
            PageNumber::Last => pages,
            PageNumber::Number(number) if number <= pages => number,
            PageNumber::Number(_) => return Err(ApiError::InvalidPage),
        };
        Ok(PageWindow { number, size: self.size, pages })
    }
}

/// `{"count", "next", "previous", "results"}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Paginated<T> {
    pub count: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

impl<T> Paginated<T> {
    pub fn new(window: PageWindow, count: u64, url: &RequestUrl, query: &QueryParams, results: Vec<T>) -> Self {
        let link = |page: Option<u64>| {
            let encoded = query.encode_with("page", page.map(|n| n.to_string()).as_deref());
            if encoded.is_empty() { url.without_query() } else { format!("{}?{encoded}", url.without_query()) }
        };
        let next = (window.number < window.pages).then(|| link(Some(window.number + 1)));
        let previous = (window.number > 1).then(|| link((window.number > 2).then_some(window.number - 1)));
        Self { count, next, previous, results }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> ApiResult<PageRequest> {
        PageRequest::from_query(&QueryParams::parse(Some(query)))
    }

    #[test]
    fn page_size_falls_back_and_caps() {
        assert_eq!(request("").unwrap().size, 12);
        assert_eq!(request("page_size=5").unwrap().size, 5);
        assert_eq!(request("page_size=1000").unwrap().size, 100);
        for bad in ["page_size=0", "page_size=-3", "page_size=abc", "page_size=", "page_size=1.5"] {
            assert_eq!(request(bad).unwrap().size, 12, "{bad}");
        }
    }

    #[test]
    fn pages_resolve_like_django() {
        assert_eq!(request("page=last&page_size=5").unwrap().resolve(11).unwrap().number, 3);
        assert_eq!(request("page=1").unwrap().resolve(0).unwrap().number, 1);
        assert_eq!(request("page=%2B2").unwrap().resolve(30).unwrap().number, 2);
        assert!(matches!(request("page=2").unwrap().resolve(0), Err(ApiError::InvalidPage)));
        for bad in
            ["page=0", "page=-1", "page=x", "page=", "page=1.0", "page=99999999999999999999999999999999999999999"]
        {
            assert!(
                matches!(request(bad), Err(ApiError::InvalidPage)) || request(bad).unwrap().resolve(10).is_err(),
                "{bad}"
            );
        }
    }
}
