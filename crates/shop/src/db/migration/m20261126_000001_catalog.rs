//! The catalogue: categories (3 levels), brands, goods and their images, banners, index ads and hot
//! search words. Money columns are integer fen; timestamps are UTC.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{create_table, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum GoodsCategory {
    Table,
    Id,
    Name,
    Code,
    Description,
    CategoryType,
    ParentId,
    IsTab,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum GoodsBrand {
    Table,
    Id,
    CategoryId,
    Name,
    Description,
    Image,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
#[allow(clippy::enum_variant_names)] // column names are the contract's
enum Goods {
    Table,
    Id,
    CategoryId,
    GoodsSn,
    Name,
    ClickNum,
    SoldNum,
    FavNum,
    GoodsNum,
    MarketPriceFen,
    ShopPriceFen,
    GoodsBrief,
    GoodsDesc,
    ShipFree,
    GoodsFrontImage,
    IsNew,
    IsHot,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum GoodsImage {
    Table,
    Id,
    GoodsId,
    Image,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum Banner {
    Table,
    Id,
    GoodsId,
    Image,
    SortIndex,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum IndexAd {
    Table,
    Id,
    CategoryId,
    GoodsId,
}

#[derive(DeriveIden, Clone, Copy)]
enum HotSearchWord {
    Table,
    Id,
    Keywords,
    SortIndex,
    AddTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, GoodsCategory::Table)
                    .col(pk_auto(GoodsCategory::Id))
                    .col(string_len(GoodsCategory::Name, 30))
                    .col(string_len(GoodsCategory::Code, 30))
                    .col(string_len(GoodsCategory::Description, 200))
                    .col(small_integer(GoodsCategory::CategoryType))
                    .col(integer_null(GoodsCategory::ParentId))
                    .col(boolean(GoodsCategory::IsTab))
                    .col(date_time(GoodsCategory::AddTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_goods_category_parent")
                            .from(GoodsCategory::Table, GoodsCategory::ParentId)
                            .to(GoodsCategory::Table, GoodsCategory::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_goods_category_parent", GoodsCategory::Table, &[GoodsCategory::ParentId]).await?;

        manager
            .create_table(
                create_table(manager, GoodsBrand::Table)
                    .col(pk_auto(GoodsBrand::Id))
                    .col(integer_null(GoodsBrand::CategoryId))
                    .col(string_len(GoodsBrand::Name, 30))
                    .col(string_len(GoodsBrand::Description, 200))
                    .col(string_len_null(GoodsBrand::Image, 200))
                    .col(date_time(GoodsBrand::AddTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_goods_brand_category")
                            .from(GoodsBrand::Table, GoodsBrand::CategoryId)
                            .to(GoodsCategory::Table, GoodsCategory::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_goods_brand_category", GoodsBrand::Table, &[GoodsBrand::CategoryId]).await?;

        manager
            .create_table(
                create_table(manager, Goods::Table)
                    .col(pk_auto(Goods::Id))
                    .col(integer(Goods::CategoryId))
                    .col(string_len_uniq(Goods::GoodsSn, 50))
                    .col(string_len(Goods::Name, 100))
                    .col(integer(Goods::ClickNum).default(0))
                    .col(integer(Goods::SoldNum).default(0))
                    .col(integer(Goods::FavNum).default(0))
                    .col(integer(Goods::GoodsNum).default(0))
                    .col(big_integer(Goods::MarketPriceFen).default(0))
                    .col(big_integer(Goods::ShopPriceFen).default(0))
                    .col(string_len(Goods::GoodsBrief, 500))
                    .col(text(Goods::GoodsDesc))
                    .col(boolean(Goods::ShipFree).default(true))
                    .col(string_len_null(Goods::GoodsFrontImage, 200))
                    .col(boolean(Goods::IsNew).default(false))
                    .col(boolean(Goods::IsHot).default(false))
                    .col(date_time(Goods::AddTime))
                    .check(Expr::col(Goods::GoodsNum).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_goods_category")
                            .from(Goods::Table, Goods::CategoryId)
                            .to(GoodsCategory::Table, GoodsCategory::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_goods_category", Goods::Table, &[Goods::CategoryId]).await?;
        index(manager, "idx_goods_shop_price", Goods::Table, &[Goods::ShopPriceFen]).await?;
        index(manager, "idx_goods_sold_num", Goods::Table, &[Goods::SoldNum]).await?;
        index(manager, "idx_goods_name", Goods::Table, &[Goods::Name]).await?;

        manager
            .create_table(
                create_table(manager, GoodsImage::Table)
                    .col(pk_auto(GoodsImage::Id))
                    .col(integer(GoodsImage::GoodsId))
                    .col(string_len_null(GoodsImage::Image, 200))
                    .col(date_time(GoodsImage::AddTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_goods_image_goods")
                            .from(GoodsImage::Table, GoodsImage::GoodsId)
                            .to(Goods::Table, Goods::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_goods_image_goods", GoodsImage::Table, &[GoodsImage::GoodsId]).await?;

        manager
            .create_table(
                create_table(manager, Banner::Table)
                    .col(pk_auto(Banner::Id))
                    .col(integer(Banner::GoodsId))
                    .col(string_len(Banner::Image, 200))
                    .col(integer(Banner::SortIndex).default(0))
                    .col(date_time(Banner::AddTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_banner_goods")
                            .from(Banner::Table, Banner::GoodsId)
                            .to(Goods::Table, Goods::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                create_table(manager, IndexAd::Table)
                    .col(pk_auto(IndexAd::Id))
                    .col(integer(IndexAd::CategoryId))
                    .col(integer(IndexAd::GoodsId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_index_ad_category")
                            .from(IndexAd::Table, IndexAd::CategoryId)
                            .to(GoodsCategory::Table, GoodsCategory::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_index_ad_goods")
                            .from(IndexAd::Table, IndexAd::GoodsId)
                            .to(Goods::Table, Goods::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                create_table(manager, HotSearchWord::Table)
                    .col(pk_auto(HotSearchWord::Id))
                    .col(string_len(HotSearchWord::Keywords, 20))
                    .col(integer(HotSearchWord::SortIndex).default(0))
                    .col(date_time(HotSearchWord::AddTime))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            HotSearchWord::Table.into_iden(),
            IndexAd::Table.into_iden(),
            Banner::Table.into_iden(),
            GoodsImage::Table.into_iden(),
            Goods::Table.into_iden(),
            GoodsBrand::Table.into_iden(),
            GoodsCategory::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
