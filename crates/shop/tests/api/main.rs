//! Integration tests: the real router against a real database (see `support`).

mod categories;
mod cli;
mod conventions;
mod goods;
mod home;
mod support;
mod web;
