//! Rows as JSON arrays that the database builds, for lists read on every request. On SQLite and
//! PostgreSQL the whole list is one aggregated value: one row through the driver instead of one
//! per row (on SQLite each row is a hand-off between the driver's thread and ours). MySQL and
//! MariaDB send one JSON array per row: MariaDB cuts an aggregate at `group_concat_max_len`, so a
//! long list would be lost.

use chrono::{NaiveDate, NaiveDateTime};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// `SELECT columns FROM from_where` with one parameter (`from_where` writes it `?`), each row
/// read as `T` from a JSON array of the columns, in no particular order. Booleans arrive as
/// `0`/`1` from SQLite and MySQL (`flexible_bool` reads both), datetimes as text (`datetime`).
pub async fn read_json_rows<T: DeserializeOwned>(
    db: &DatabaseConnection,
    columns: &'static str,
    from_where: &'static str,
    parameter: sea_orm::Value,
) -> Result<Vec<T>, DbErr> {
    // PostgreSQL's placeholder replaces the one `?`: no other may hide in a literal or operator.
    debug_assert_eq!(from_where.matches('?').count(), 1, "{from_where}");
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => format!("SELECT json_group_array(json_array({columns})) FROM {from_where}"),
        DbBackend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({columns})), '[]')::text FROM {}",
            from_where.replace('?', "$1")
        ),
        // MySQL types `JSON_ARRAY` as JSON, which the driver does not read as text; MariaDB as text.
        _ => format!("SELECT CAST(JSON_ARRAY({columns}) AS CHAR) FROM {from_where}"),
    };
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, [parameter])).await?;
    let mut read = Vec::new();
    for row in rows {
        let json: String = row.try_get_by_index(0)?;
        let parsed = match backend {
            DbBackend::Sqlite | DbBackend::Postgres => serde_json::from_str::<Vec<T>>(&json),
            _ => serde_json::from_str::<T>(&json).map(|one| vec![one]),
        };
        read.extend(parsed.map_err(|error| DbErr::Json(format!("reading {from_where}: {error}")))?);
    }
    Ok(read)
}

/// A boolean column: `true`/`false` from PostgreSQL, `1`/`0` from SQLite and MySQL.
pub fn flexible_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Number(i64),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Bool(flag) => flag,
        Flag::Number(number) => number != 0,
    })
}

pub fn datetime<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NaiveDateTime, D::Error> {
    let text = <&str>::deserialize(deserializer)?;
    parse_datetime(text).ok_or_else(|| serde::de::Error::custom(format!("not a datetime: {text:?}")))
}

pub fn optional_datetime<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDateTime>, D::Error> {
    match Option::<&str>::deserialize(deserializer)? {
        Some(text) => {
            parse_datetime(text).map(Some).ok_or_else(|| serde::de::Error::custom(format!("not a datetime: {text:?}")))
        }
        None => Ok(None),
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction, and `T` for the space: how SQLite stores a
/// datetime (as the shop writes it, without a zone), and how PostgreSQL and MySQL write one into
/// JSON.
fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || !matches!(bytes[10], b' ' | b'T') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = text.get(range)?;
        digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok()).flatten()
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, separator)| bytes[at] != separator) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(number(0..4)?).ok()?, number(5..7)?, number(8..10)?)?;
    let nanos = match text.get(19..)? {
        "" => 0,
        fraction => {
            let digits = fraction.strip_prefix('.').filter(|d| (1..=9).contains(&d.len()))?;
            let value = number(20..text.len())?;
            value * 10u32.pow(9 - digits.len() as u32)
        }
    };
    date.and_hms_nano_opt(number(11..13)?, number(14..16)?, number(17..19)?, nanos)
}

#[cfg(test)]
mod tests {
    use super::parse_datetime;

    #[test]
    fn reads_the_datetimes_each_database_writes() {
        let expected =
            |nanos| chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap().and_hms_nano_opt(21, 5, 9, nanos).unwrap();
        assert_eq!(parse_datetime("2026-11-30 21:05:09"), Some(expected(0)));
        assert_eq!(parse_datetime("2026-11-30T21:05:09"), Some(expected(0)));
        assert_eq!(parse_datetime("2026-11-30 21:05:09.000000"), Some(expected(0)));
        assert_eq!(parse_datetime("2026-11-30T21:05:09.25"), Some(expected(250_000_000)));
        assert_eq!(parse_datetime("2026-11-30 21:05:09.123456789"), Some(expected(123_456_789)));
        for bad in [
            "2026-11-30 21:05:0é",
            "",
            "2026-11-30",
            "2026-11-30 21:05",
            "2026-13-30 21:05:09",
            "2026-11-30 21:05:09.",
            "2026-11-30x21:05:09",
            "2026-11-30 21:05:09Z",
            "+026-11-30 21:05:09",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }
}
