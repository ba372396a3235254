//! Named points where a test can make the next pass fail, to prove that a failure half-way through
//! a change leaves nothing half-written. Nothing arms them outside tests.

use std::collections::HashSet;
use std::sync::Mutex;

#[derive(Default)]
pub struct FailPoints {
    armed: Mutex<HashSet<&'static str>>,
}

impl FailPoints {
    /// Makes the next `check(name)` fail.
    pub fn arm(&self, name: &'static str) {
        self.armed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(name);
    }

    /// `Err` once after `arm(name)`, `Ok` otherwise.
    pub fn check(&self, name: &'static str) -> anyhow::Result<()> {
        if self.armed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(name) {
            anyhow::bail!("fail point {name} fired");
        }
        Ok(())
    }
}
