//! Money and Beijing-time timestamps.

use alipay::{Error, Money};
use chrono::{TimeZone, Utc};

#[test]
fn money_parses_and_renders_two_decimals() {
    for (s, fen, shown) in [
        ("0", 0, "0.00"),
        ("0.1", 10, "0.10"),
        ("0.01", 1, "0.01"),
        ("100000000.00", 10_000_000_000, "100000000.00"),
        ("007.5", 750, "7.50"),
    ] {
        let m: Money = s.parse().unwrap();
        assert_eq!(m.fen(), fen, "{s}");
        assert_eq!(m.to_string(), shown);
    }
    for s in ["", ".5", "1.", "1.234", "-1", "+1", "1e2", " 1", "1,000", "1.0.0", "９", "99999999999999999999"] {
        assert!(matches!(s.parse::<Money>(), Err(Error::InvalidAmount { .. })), "{s:?}");
    }
    assert!(Money::from_fen(-1).is_err());
    assert_eq!(serde_json::to_string(&Money::from_fen(1234).unwrap()).unwrap(), "\"12.34\"");
    let m: Money = serde_json::from_str("\"0.10\"").unwrap();
    assert_eq!(m.fen(), 10);
}

#[test]
fn timestamps_are_beijing_time_whatever_the_zone() {
    // Fixed UTC+8 arithmetic: the machine's zone (UTC here and in CI) plays no part.
    let t = Utc.with_ymd_and_hms(2024, 12, 31, 16, 0, 1).unwrap();
    assert_eq!(alipay::timestamp::format_beijing(t), "2025-01-01 00:00:01");
    let now = Utc::now();
    let s = alipay::timestamp::now_beijing();
    let parsed = alipay::timestamp::parse_beijing("timestamp", &s).unwrap();
    let diff = (parsed.with_timezone(&Utc) - now).num_seconds().abs();
    assert!(diff <= 2, "{s} vs {now}");
    assert!(alipay::timestamp::parse_beijing("timestamp", "2024-13-01 00:00:00").is_err());
}

/// Runs in a child process of this test binary with `TZ` set to a zone far from UTC+8: the
/// Alipay timestamp must still be Beijing time.
#[test]
fn timestamp_ignores_the_process_time_zone() {
    if std::env::var_os("ALIPAY_TZ_CHILD").is_some() {
        println!("CHILD-TS={}", alipay::timestamp::now_beijing());
        return;
    }
    for tz in ["America/New_York", "UTC", "Asia/Kolkata", "Pacific/Kiritimati"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "money_time::timestamp_ignores_the_process_time_zone", "--nocapture", "--test-threads=1"])
            .env("TZ", tz)
            .env("ALIPAY_TZ_CHILD", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ts = stdout
            .lines()
            .find_map(|l| l.split("CHILD-TS=").nth(1))
            .unwrap_or_else(|| panic!("child under TZ={tz} printed no timestamp: {stdout}"));
        let parsed = alipay::timestamp::parse_beijing("timestamp", ts).unwrap();
        let diff = (parsed.with_timezone(&Utc) - Utc::now()).num_seconds().abs();
        assert!(diff <= 5, "TZ={tz}: {ts} is not Beijing time now");
    }
}
