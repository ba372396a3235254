//! The `user_operation` app: favourites, leaving messages, addresses.

use sea_orm::ActiveValue::Set;

use super::{Context, Identity, Mapped, Table, goods_ref, skip, user_ref};
use crate::db::entities::{user_address, user_fav, user_message};
use crate::import::source::Row;

pub const FAVOURITES: Table<user_fav::Entity> = Table {
    name: "favourites",
    source: "user_operation_userfav",
    columns: &["id", "add_time", "goods_id", "user_id"],
    map: map_favourite,
    kept_on_merge: &[],
    write_order: None,
    identity: Identity::owner("user_id"),
    unique: &[],
};

fn map_favourite(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<user_fav::ActiveModel>> {
    let (user, goods) = match (user_ref(row, ctx)?, goods_ref(row, ctx)?) {
        (Ok(user), Ok(goods)) => (user, goods),
        (Err(detail), _) => return skip("user missing", detail),
        (_, Err(detail)) => return skip("goods missing", detail),
    };
    Ok(Mapped::Keep(user_fav::ActiveModel {
        id: Set(row.id),
        user_id: Set(user),
        goods_id: Set(goods),
        add_time: Set(ctx.time("favourites", row, "add_time")?),
    }))
}

pub const MESSAGES: Table<user_message::Entity> = Table {
    name: "messages",
    source: "user_operation_userleavingmessage",
    columns: &["id", "message_type", "subject", "message", "file", "add_time", "user_id"],
    map: map_message,
    kept_on_merge: &[],
    write_order: None,
    identity: Identity::owner("user_id"),
    unique: &[],
};

fn map_message(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<user_message::ActiveModel>> {
    const E: &str = "messages";
    let user = match user_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("user missing", detail),
    };
    let kind = row.int("message_type")?.unwrap_or(1);
    let Ok(kind @ 1..=5) = i16::try_from(kind) else {
        return skip("unknown message type", format!("message_type is {kind}"));
    };
    let file = ctx.media_name(E, row.id, "file", row.text("file")?, 100).unwrap_or_default();
    let subject = ctx.fit(E, row.id, "subject", row.required_text("subject")?, 100);
    let message = ctx.fit_text(E, row.id, "message", row.required_text("message")?);
    Ok(Mapped::Keep(user_message::ActiveModel {
        id: Set(row.id),
        user_id: Set(user),
        message_type: Set(kind),
        subject: Set(subject),
        message: Set(message),
        file: Set(file),
        add_time: Set(ctx.time(E, row, "add_time")?),
    }))
}

pub const ADDRESSES: Table<user_address::Entity> = Table {
    name: "addresses",
    source: "user_operation_useraddress",
    columns: &["id", "province", "city", "district", "address", "signer_name", "signer_mobile", "add_time", "user_id"],
    map: map_address,
    kept_on_merge: &[],
    write_order: None,
    identity: Identity::owner("user_id"),
    unique: &[],
};

fn map_address(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<user_address::ActiveModel>> {
    let user = match user_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("user missing", detail),
    };
    const E: &str = "addresses";
    let mut text = |column: &str, max: usize| -> anyhow::Result<String> {
        Ok(ctx.fit(E, row.id, column, row.required_text(column)?, max))
    };
    let (province, city, district) = (text("province", 100)?, text("city", 100)?, text("district", 100)?);
    let (address, signer_name, signer_mobile) =
        (text("address", 100)?, text("signer_name", 100)?, text("signer_mobile", 11)?);
    Ok(Mapped::Keep(user_address::ActiveModel {
        id: Set(row.id),
        user_id: Set(user),
        province: Set(province),
        city: Set(city),
        district: Set(district),
        address: Set(address),
        signer_name: Set(signer_name),
        signer_mobile: Set(signer_mobile),
        add_time: Set(ctx.time(E, row, "add_time")?),
    }))
}
