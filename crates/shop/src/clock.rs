//! Time: UTC in the database, Asia/Shanghai (UTC+8, no daylight saving since 1991) on the wire.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, Timelike, Utc};

use chrono::TimeZone;

/// UTC+8; evaluated at compile time, so an out-of-range offset cannot reach run time.
const SHANGHAI: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// What time it is for the shop's rules that depend on it: an order's payment deadline, when an
/// unpaid order is asked about and when it expires, when a refund is checked again, how long an
/// SMS code lasts. Production runs on `SystemClock`; tests put in a clock they move forward
/// instead of back-dating rows.
pub trait Clock: Send + Sync {
    /// The current instant (UTC), in whole seconds.
    fn now(&self) -> NaiveDateTime;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        now_utc()
    }
}

/// The current instant, truncated to whole seconds as every stored timestamp is.
pub fn now_utc() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)))
}

/// `YYYY-MM-DD HH:MM:SS` in Shanghai time, the contract's default datetime format.
pub fn format_datetime(utc: NaiveDateTime) -> String {
    let mut out = format_minutes(utc);
    out.push(':');
    push_two_digits(&mut out, to_shanghai(utc).second());
    out
}

/// `YYYY-MM-DD HH:MM` in Shanghai time (messages and addresses). Written digit by digit: lists
/// of orders render two per row, and `strftime` parses its pattern every time.
pub fn format_minutes(utc: NaiveDateTime) -> String {
    let local = to_shanghai(utc);
    let Some(year) = u32::try_from(local.year()).ok().filter(|year| *year <= 9999) else {
        return local.format("%Y-%m-%d %H:%M").to_string();
    };
    let mut out = String::with_capacity(19);
    push_two_digits(&mut out, year / 100);
    push_two_digits(&mut out, year % 100);
    for (separator, value) in [('-', local.month()), ('-', local.day()), (' ', local.hour()), (':', local.minute())] {
        out.push(separator);
        push_two_digits(&mut out, value);
    }
    out
}

fn push_two_digits(out: &mut String, value: u32) {
    out.push(char::from(b'0' + (value / 10 % 10) as u8));
    out.push(char::from(b'0' + (value % 10) as u8));
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
        let early = NaiveDateTime::parse_from_str("0999-01-02 03:04:05", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            format_datetime(early),
            early.checked_add_signed(chrono::Duration::hours(8)).unwrap().format("%Y-%m-%d %H:%M:%S").to_string()
        );
    }
}
