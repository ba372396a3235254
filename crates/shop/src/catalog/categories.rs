//! The category tree, loaded in one query and shaped in memory: any node can be rendered as the
//! root of the contract's `sub_cat` tree, and any node's subtree ids are known.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryOrder};

use super::render::{CategoryJson, CategoryTree, CategoryTreeJson};
use crate::db::entities::category;

pub struct CategoryIndex {
    by_id: HashMap<i32, category::Model>,
    /// Children of each node, by ascending id.
    children: HashMap<i32, Vec<i32>>,
    /// Every id, ascending.
    ids: Vec<i32>,
    /// Each category's flat JSON, for goods lists written from their pre-rendered text.
    flat_json: HashMap<i32, Box<str>>,
}

impl CategoryIndex {
    pub async fn load(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let rows = category::Entity::find().order_by_asc(category::Column::Id).all(db).await?;
        Ok(Self::from_rows(rows))
    }

    fn from_rows(rows: Vec<category::Model>) -> Self {
        let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
        let ids = rows.iter().map(|row| row.id).collect();
        for row in &rows {
            if let Some(parent) = row.parent_id {
                children.entry(parent).or_default().push(row.id);
            }
        }
        let flat_json = rows
            .iter()
            .map(|row| (row.id, serde_json::to_string(&CategoryJson::from(row)).unwrap_or_default().into()))
            .collect();
        let by_id = rows.into_iter().map(|row| (row.id, row)).collect();
        Self { by_id, children, ids, flat_json }
    }

    pub fn get(&self, id: i32) -> Option<&category::Model> {
        self.by_id.get(&id)
    }

    /// Categories with `category_type = 1`, by id.
    pub fn top_level(&self) -> impl Iterator<Item = &category::Model> {
        self.ids.iter().filter_map(|id| self.by_id.get(id)).filter(|c| c.category_type == 1)
    }

    /// The node's direct children, by id.
    pub fn children(&self, id: i32) -> impl Iterator<Item = &category::Model> {
        self.children.get(&id).into_iter().flatten().filter_map(|child| self.by_id.get(child))
    }

    /// The flat shape's JSON.
    pub fn flat_json(&self, id: i32) -> Option<&str> {
        self.flat_json.get(&id).map(|json| &**json)
    }

    pub fn flat(&self, id: i32) -> Option<CategoryJson> {
        self.get(id).map(CategoryJson::from)
    }

    /// The node's direct children, each with its own children flat (the level-2 shape).
    pub fn sub_trees(&self, id: i32) -> Vec<CategoryTreeJson<CategoryJson>> {
        self.children(id)
            .map(|child| CategoryTreeJson {
                id: child.id,
                sub_cat: self.children(child.id).map(CategoryJson::from).collect(),
                fields: child.into(),
            })
            .collect()
    }

    /// The node as the root of a three-level tree (the shape of `/categories/`).
    pub fn tree(&self, id: i32) -> Option<CategoryTree> {
        let root = self.get(id)?;
        Some(CategoryTreeJson { id, sub_cat: self.sub_trees(id), fields: root.into() })
    }

    /// The node, its children and its grandchildren: what `top_category` matches.
    pub fn subtree_ids(&self, id: i32) -> Vec<i32> {
        let mut ids = vec![id];
        for child in self.children(id) {
            ids.push(child.id);
            ids.extend(self.children(child.id).map(|grandchild| grandchild.id));
        }
        ids
    }
}

/// The category tree, read at most once per `period` (the catalogue cache's): every goods
/// rendered names its category, and `top_category` filters by a subtree, so without it each
/// list, cart and favourites page would read the tree again. A category added or renamed shows
/// within a period, as it does in the cached catalogue pages.
pub struct CategoryCache {
    period: Duration,
    current: Mutex<Option<(Arc<CategoryIndex>, Instant)>>,
}

impl CategoryCache {
    /// `period` zero: read on every use.
    pub fn new(period: Duration) -> Self {
        Self { period, current: Mutex::default() }
    }

    pub async fn get(&self, db: &DatabaseConnection) -> Result<Arc<CategoryIndex>, DbErr> {
        {
            let current = self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some((index, read_at)) = current.as_ref()
                && read_at.elapsed() < self.period
            {
                return Ok(index.clone());
            }
        }
        self.read(db).await
    }

    /// The tree, read again when it lacks one of `ids` (a category added within the period).
    pub async fn covering(
        &self,
        db: &DatabaseConnection,
        mut ids: impl Iterator<Item = i32>,
    ) -> Result<Arc<CategoryIndex>, DbErr> {
        let index = self.get(db).await?;
        if ids.all(|id| index.get(id).is_some()) { Ok(index) } else { self.read(db).await }
    }

    async fn read(&self, db: &DatabaseConnection) -> Result<Arc<CategoryIndex>, DbErr> {
        // Two requests may both read it when it expires: cheaper than making one wait.
        let index = Arc::new(CategoryIndex::load(db).await?);
        *self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((index.clone(), Instant::now()));
        Ok(index)
    }
}
