//! What a buyer does on a served app with the built-in sandbox: order, open the cashier, pay.

use sea_orm::EntityTrait;
use serde_json::{Value, json};
use shop::db::entities::order_info;

use super::TestApp;

impl TestApp {
    /// Puts `nums` of `goods_id` in the cart and orders it.
    pub async fn order(&self, token: &str, goods_id: i32, nums: i32) -> Value {
        let post = reqwest::Method::POST;
        let t = Some(token);
        assert_eq!(self.fetch(post.clone(), "/shopcarts/", json!({"goods": goods_id, "nums": nums}), t).await.0, 201);
        let (status, order) =
            self.fetch(post, "/orders/", json!({"post_script": "x", "singer_mobile": "13800138000"}), t).await;
        assert_eq!(status, 201, "{order}");
        order
    }

    /// Opens the order's cashier and presses Pay; returns where the browser is sent.
    pub async fn pay(&self, order: &Value) -> String {
        let trade_no = self.open_cashier(order).await;
        let paid = self
            .http
            .post(format!("{}/sandbox/alipay/cashier/pay", self.base))
            .form(&[("trade_no", trade_no.as_str())])
            .send()
            .await
            .unwrap();
        assert!(paid.status().is_redirection(), "{}", paid.status());
        paid.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Opens the order's cashier (which creates the Alipay trade); returns its `trade_no`.
    pub async fn open_cashier(&self, order: &Value) -> String {
        let page = self.http.get(order["alipay_url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
        page.split("name=\"trade_no\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
    }

    pub async fn order_row(&self, order: &Value) -> order_info::Model {
        order_info::Entity::find_by_id(order["id"].as_i64().unwrap() as i32).one(&self.db).await.unwrap().unwrap()
    }

    pub fn sandbox(&self) -> &alipay_sandbox::Sandbox {
        &self.state.sandbox.as_ref().expect("the built-in sandbox").sandbox
    }
}
