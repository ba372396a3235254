//! Beijing-time (UTC+8) timestamps in Alipay's `yyyy-MM-dd HH:mm:ss` format, whatever the machine's zone.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use crate::error::{Error, Result};

/// Alipay's wire format for times.
pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// The fixed UTC+8 offset Alipay uses (China has no daylight saving time).
///
/// ```
/// assert_eq!(alipay::timestamp::beijing().local_minus_utc(), 8 * 3600);
/// ```
pub fn beijing() -> FixedOffset {
    BEIJING
}

/// UTC+8, checked at compile time.
const BEIJING: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// Formats an instant as Beijing time for Alipay (`timestamp`, `time_expire`).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// let t = Utc.with_ymd_and_hms(2024, 1, 31, 16, 30, 0).unwrap();
/// assert_eq!(alipay::timestamp::format_beijing(t), "2024-02-01 00:30:00");
/// ```
pub fn format_beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing()).format(FORMAT).to_string()
}

/// The current time formatted for Alipay's `timestamp`.
pub fn now_beijing() -> String {
    format_beijing(Utc::now())
}

/// Parses an Alipay time (`gmt_payment`, `send_pay_date`, …) as Beijing time.
///
/// ```
/// let t = alipay::timestamp::parse_beijing("gmt_payment", "2019-08-15 15:56:24")?;
/// assert_eq!(t.to_rfc3339(), "2019-08-15T15:56:24+08:00");
/// assert_eq!(t.with_timezone(&chrono::Utc).to_rfc3339(), "2019-08-15T07:56:24+00:00");
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn parse_beijing(field: &str, s: &str) -> Result<DateTime<FixedOffset>> {
    let naive = NaiveDateTime::parse_from_str(s, FORMAT).map_err(|e| Error::MalformedField {
        field: field.to_owned(),
        value: s.to_owned(),
        reason: format!("not a yyyy-MM-dd HH:mm:ss time ({e})"),
    })?;
    beijing().from_local_datetime(&naive).single().ok_or_else(|| Error::MalformedField {
        field: field.to_owned(),
        value: s.to_owned(),
        reason: "not a valid time".into(),
    })
}
