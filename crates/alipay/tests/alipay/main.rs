//! Integration tests of the `alipay` crate: real Alipay vectors, byte-identical signatures,
//! keys, canonical strings, page pay, notifications, property tests and server calls against a
//! local gateway on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod canonical;
mod keys;
mod money_time;
mod notify;
mod page_pay;
mod props;
mod response;
mod server;
mod support;
mod vectors;
