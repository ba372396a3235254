//! Time: UTC in the database, Asia/Shanghai (UTC+8, no daylight saving since 1991) on the wire.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

use chrono::TimeZone;

/// UTC+8; evaluated at compile time, so an out-of-range offset cannot reach run time.
const SHANGHAI: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// The current instant, truncated to whole seconds as every stored timestamp is.
pub fn now_utc() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)))
}

/// `YYYY-MM-DD HH:MM:SS` in Shanghai time, the contract's default datetime format.
pub fn format_datetime(utc: NaiveDateTime) -> String {
    to_shanghai(utc).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `YYYY-MM-DD HH:MM` in Shanghai time (messages and addresses).
pub fn format_minutes(utc: NaiveDateTime) -> String {
    to_shanghai(utc).format("%Y-%m-%d %H:%M").to_string()
}

fn to_shanghai(utc: NaiveDateTime) -> DateTime<FixedOffset> {
    Utc.from_utc_datetime(&utc).with_timezone(&SHANGHAI)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_shanghai_time() {
        let utc = NaiveDateTime::parse_from_str("2018-05-03 14:59:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(format_datetime(utc), "2018-05-03 22:59:00");
        assert_eq!(format_minutes(utc), "2018-05-03 22:59");
        let late = NaiveDateTime::parse_from_str("2018-12-31 20:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(format_datetime(late), "2019-01-01 04:30:00");
    }
}
