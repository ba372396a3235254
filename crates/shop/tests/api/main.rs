//! Integration tests: the real router against a real database (see `support`).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod accounts;
mod binary;
mod categories;
mod checkout;
mod cli;
mod conventions;
mod faults;
mod goods;
mod home;
mod import;
mod ledger;
mod member;
mod operations;
mod payments;
mod security;
mod shapes;
mod speed;
mod storefront;
mod support;
mod trade;
mod web;
