//! A buyer's orders for `GET /orders/`, read as JSON the database builds: on SQLite and
//! PostgreSQL the whole list is one aggregated value, one row through the driver instead of one
//! per order (on SQLite each row is a hand-off between the driver's thread and ours, and each of
//! an order's six datetimes was parsed with `strftime`). MySQL and MariaDB send one JSON array per
//! order: MariaDB cuts an aggregate at `group_concat_max_len`, so a long history would be lost.

use chrono::{NaiveDate, NaiveDateTime};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde::Deserialize;

use crate::db::entities::order_info;

/// What the list shows of an order, and what its pay URL is signed from.
#[derive(Debug, Deserialize)]
pub struct OrderRow {
    pub id: i32,
    pub pay_status: String,
    pub trade_no: Option<String>,
    pub order_sn: String,
    #[serde(deserialize_with = "optional_datetime")]
    pub pay_time: Option<NaiveDateTime>,
    pub pay_type: String,
    pub post_script: String,
    pub order_mount_fen: i64,
    pub address: String,
    pub signer_name: String,
    pub singer_mobile: String,
    #[serde(deserialize_with = "datetime")]
    pub add_time: NaiveDateTime,
    #[serde(deserialize_with = "datetime")]
    pub expire_at: NaiveDateTime,
}

impl From<&order_info::Model> for OrderRow {
    fn from(order: &order_info::Model) -> Self {
        Self {
            id: order.id,
            pay_status: order.pay_status.clone(),
            trade_no: order.trade_no.clone(),
            order_sn: order.order_sn.clone(),
            pay_time: order.pay_time,
            pay_type: order.pay_type.clone(),
            post_script: order.post_script.clone(),
            order_mount_fen: order.order_mount_fen,
            address: order.address.clone(),
            signer_name: order.signer_name.clone(),
            singer_mobile: order.singer_mobile.clone(),
            add_time: order.add_time,
            expire_at: order.expire_at,
        }
    }
}

/// The columns of `OrderRow`, in its order (serde reads a JSON array as the struct's fields).
const COLUMNS: &str = "id, pay_status, trade_no, order_sn, pay_time, pay_type, post_script, order_mount_fen, \
                       address, signer_name, singer_mobile, add_time, expire_at";

/// The user's orders that they have not cancelled, by id.
pub async fn read_orders(db: &DatabaseConnection, user_id: i32) -> Result<Vec<OrderRow>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => format!(
            "SELECT json_group_array(json_array({COLUMNS})) FROM order_info WHERE user_id = ? AND cancelled_at IS NULL"
        ),
        DbBackend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({COLUMNS})), '[]')::text FROM order_info \
             WHERE user_id = $1 AND cancelled_at IS NULL"
        ),
        // MySQL types `JSON_ARRAY` as JSON, which the driver does not read as text; MariaDB as text.
        _ => format!(
            "SELECT CAST(JSON_ARRAY({COLUMNS}) AS CHAR) FROM order_info WHERE user_id = ? AND cancelled_at IS NULL"
        ),
    };
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, [user_id.into()])).await?;
    let mut orders = Vec::new();
    for row in rows {
        let json: String = row.try_get_by_index(0)?;
        let parsed = match backend {
            DbBackend::Sqlite | DbBackend::Postgres => serde_json::from_str::<Vec<OrderRow>>(&json),
            _ => serde_json::from_str::<OrderRow>(&json).map(|order| vec![order]),
        };
        orders.extend(parsed.map_err(|error| DbErr::Json(format!("reading the orders of user {user_id}: {error}")))?);
    }
    orders.sort_unstable_by_key(|order| order.id);
    Ok(orders)
}

fn datetime<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NaiveDateTime, D::Error> {
    let text = <&str>::deserialize(deserializer)?;
    parse_datetime(text).ok_or_else(|| serde::de::Error::custom(format!("not a datetime: {text:?}")))
}

fn optional_datetime<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDateTime>, D::Error> {
    match Option::<&str>::deserialize(deserializer)? {
        Some(text) => {
            parse_datetime(text).map(Some).ok_or_else(|| serde::de::Error::custom(format!("not a datetime: {text:?}")))
        }
        None => Ok(None),
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction, and `T` for the space: how SQLite stores a
/// datetime, and how PostgreSQL and MySQL write one into JSON.
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
