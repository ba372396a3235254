//! Integration tests: a real sandbox on 127.0.0.1, real merchants on 127.0.0.1, real signatures.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod api;
mod forgery;
mod restart;
mod retries;
mod support;
