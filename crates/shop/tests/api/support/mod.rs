//! The test harness: `TestApp` (one builder: in-process or served, fixed keys or the built-in
//! sandbox, a clock tests move) over a database of its own; requests and responses; fixtures.

mod app;
mod buying;
mod clock;
mod database;
mod fixture;
mod relay;
mod response;

pub use app::TestApp;
pub use clock::{TEST_APP_ID, TEST_SECRET, TestClock, test_key};
pub use database::{Backend, TestDatabase};
pub use fixture::{Fixture, time};
pub use relay::{Relay, RelayedDatabase};
pub use response::{TestResponse, call, send_to};
