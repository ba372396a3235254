//! Goods queries: the filtered, ordered, paginated list; the detail with its click count; and
//! attaching categories and gallery images to a set of goods in a constant number of queries.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::categories::CategoryIndex;
use super::filters::{GoodsFilter, OrderField, TopCategory};
use super::render::{CategoryJson, GoodsJson};
use crate::db::entities::{category, goods, goods_image};
use crate::http::RequestUrl;
use crate::http::pagination::{PageRequest, PageWindow};
use crate::http::{ApiError, ApiResult};

/// One page of goods and the number of goods matching the filter.
pub struct GoodsPage {
    pub count: u64,
    pub window: PageWindow,
    pub rows: Vec<goods::Model>,
}

/// Filters → search → ordering → pagination, as DRF runs them; two statements.
pub async fn list_goods(db: &DatabaseConnection, filter: &GoodsFilter, page: PageRequest) -> ApiResult<GoodsPage> {
    let condition = condition(filter);
    let count = goods::Entity::find().filter(condition.clone()).count(db).await?;
    let window = page.resolve(count)?;
    let mut select = goods::Entity::find().filter(condition);
    for key in &filter.ordering {
        let column = match key.field {
            OrderField::SoldNum => goods::Column::SoldNum,
            OrderField::ShopPrice => goods::Column::ShopPriceFen,
            OrderField::AddTime => goods::Column::AddTime,
        };
        select = if key.descending { select.order_by_desc(column) } else { select.order_by_asc(column) };
    }
    let rows = select.order_by_asc(goods::Column::Id).offset(window.offset()).limit(window.size).all(db).await?;
    Ok(GoodsPage { count, window, rows })
}

fn condition(filter: &GoodsFilter) -> Condition {
    let mut all = Condition::all();
    if let Some(min) = filter.price_min_fen {
        all = all.add(goods::Column::ShopPriceFen.gte(min));
    }
    if let Some(max) = filter.price_max_fen {
        all = all.add(goods::Column::ShopPriceFen.lte(max));
    }
    match filter.top_category {
        Some(TopCategory::Id(id)) => all = all.add(goods::Column::CategoryId.in_subquery(subtree_query(id))),
        Some(TopCategory::MatchesNothing) => all = all.add(matches_nothing()),
        None => {}
    }
    if let Some(is_new) = filter.is_new {
        all = all.add(goods::Column::IsNew.eq(is_new));
    }
    if let Some(is_hot) = filter.is_hot {
        all = all.add(goods::Column::IsHot.eq(is_hot));
    }
    if let Some(name) = &filter.name {
        // No stored name holds a NUL, and PostgreSQL refuses one in a parameter.
        all = all.add(if name.contains('\0') { matches_nothing() } else { goods::Column::Name.eq(name.as_str()) });
    }
    for term in &filter.search_terms {
        let pattern = format!("%{}%", escape_like(term));
        let mut any = Condition::any();
        for column in [goods::Column::Name, goods::Column::GoodsBrief, goods::Column::GoodsDesc] {
            any = any.add(Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern.clone()).escape('!')));
        }
        all = all.add(any);
    }
    all
}

fn matches_nothing() -> sea_orm::sea_query::SimpleExpr {
    Expr::val(1).eq(0)
}

/// Ids of the category, its children and its grandchildren.
fn subtree_query(id: i32) -> sea_orm::sea_query::SelectStatement {
    let parent = Alias::new("parent");
    Query::select()
        .column((category::Entity, category::Column::Id))
        .from(category::Entity)
        .left_join(
            sea_orm::sea_query::TableRef::from(category::Entity).alias(parent.clone()),
            Expr::col((parent.clone(), category::Column::Id)).equals((category::Entity, category::Column::ParentId)),
        )
        .cond_where(
            Condition::any()
                .add(Expr::col((category::Entity, category::Column::Id)).eq(id))
                .add(Expr::col((category::Entity, category::Column::ParentId)).eq(id))
                .add(Expr::col((parent, category::Column::ParentId)).eq(id)),
        )
        .to_owned()
}

/// `%`, `_` and the escape character itself match literally.
fn escape_like(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    for ch in term.chars() {
        if matches!(ch, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(ch);
    }
    out
}

/// Counts a view (`click_num + 1` in one statement) and returns the goods with the new count.
pub async fn view_goods(db: &DatabaseConnection, id: i32) -> ApiResult<goods::Model> {
    let updated = goods::Entity::update_many()
        .col_expr(goods::Column::ClickNum, Expr::col(goods::Column::ClickNum).add(1))
        .filter(goods::Column::Id.eq(id))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(ApiError::NotFound);
    }
    goods::Entity::find_by_id(id).one(db).await?.ok_or(ApiError::NotFound)
}

/// The goods with these ids, rendered, by id (for carts, favourites and order lines).
pub async fn render_goods_by_id(
    db: &DatabaseConnection,
    url: &RequestUrl,
    ids: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, GoodsJson>, DbErr> {
    let rows =
        goods::Entity::find().filter(goods::Column::Id.is_in(ids.into_iter().collect::<Vec<_>>())).all(db).await?;
    let rendered = render_goods(db, url, &rows, None).await?;
    Ok(rows.iter().map(|row| row.id).zip(rendered).collect())
}

/// Renders goods with their flat category and gallery: one query for the images and, unless the
/// caller already holds the category tree, one for the categories — whatever the number of goods.
pub async fn render_goods(
    db: &DatabaseConnection,
    url: &RequestUrl,
    rows: &[goods::Model],
    categories: Option<&CategoryIndex>,
) -> Result<Vec<GoodsJson>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let goods_ids: Vec<i32> = rows.iter().map(|row| row.id).collect();
    let mut gallery: HashMap<i32, Vec<Option<String>>> = HashMap::new();
    for image in goods_image::Entity::find()
        .filter(goods_image::Column::GoodsId.is_in(goods_ids))
        .order_by_asc(goods_image::Column::Id)
        .all(db)
        .await?
    {
        gallery.entry(image.goods_id).or_default().push(image.image);
    }
    let loaded: HashMap<i32, CategoryJson> = match categories {
        Some(_) => HashMap::new(),
        None => {
            let mut ids: Vec<i32> = rows.iter().map(|row| row.category_id).collect();
            ids.sort_unstable();
            ids.dedup();
            category::Entity::find()
                .filter(category::Column::Id.is_in(ids))
                .all(db)
                .await?
                .iter()
                .map(|model| (model.id, CategoryJson::from(model)))
                .collect()
        }
    };
    let mut rendered = Vec::with_capacity(rows.len());
    for row in rows {
        let category = match categories {
            Some(index) => index.flat(row.category_id),
            None => loaded.get(&row.category_id).cloned(),
        };
        // The foreign key guarantees the category exists; a missing one means a broken database.
        let category = category
            .ok_or_else(|| DbErr::RecordNotFound(format!("category {} of goods {}", row.category_id, row.id)))?;
        let images = gallery.get(&row.id).map(Vec::as_slice).unwrap_or_default();
        rendered.push(GoodsJson::new(row, category, images, url));
    }
    Ok(rendered)
}
