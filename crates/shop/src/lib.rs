//! mxshop: an online-shop backend with Alipay payments, serving the MxShop Django REST API.
//!
//! Organised by feature (`catalog`, `accounts`, `member`, `trade`, `payments`, `web`,
//! `storefront`) over shared plumbing (`http`, `db`, `config`, `cli`, `secrets`, `throttle`).
//! `state` holds what handlers reach; `app` assembles every feature's routes into one router.

pub mod accounts;
pub mod app;
pub mod catalog;
pub mod check_config;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod failpoints;
pub mod http;
pub mod import;
pub mod member;
pub mod money;
pub mod openapi;
pub mod outbound;
pub mod payments;
pub mod readiness;
pub mod secrets;
pub mod state;
pub mod storefront;
pub mod telemetry;
pub mod throttle;
pub mod trade;
pub mod web;

pub use app::{Server, build_app};
pub use config::Config;
pub use state::AppState;
