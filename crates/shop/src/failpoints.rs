//! Named points where a test can make the next pass fail, to prove that a failure half-way through
//! a change leaves nothing half-written. Only builds with the `failpoints` feature (the integration
//! tests turn it on) can arm them; in any other build `check` is an empty inline function.

#[cfg(feature = "failpoints")]
use std::collections::HashSet;
#[cfg(feature = "failpoints")]
use std::sync::Mutex;

#[derive(Default)]
pub struct FailPoints {
    #[cfg(feature = "failpoints")]
    armed: Mutex<HashSet<&'static str>>,
}

impl FailPoints {
    /// Makes the next `check(name)` fail.
    #[cfg(feature = "failpoints")]
    pub fn arm(&self, name: &'static str) {
        self.armed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(name);
    }

    /// `Err` once after `arm(name)`, `Ok` otherwise.
    #[cfg(feature = "failpoints")]
    pub fn check(&self, name: &'static str) -> anyhow::Result<()> {
        if self.armed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(name) {
            anyhow::bail!("fail point {name} fired");
        }
        Ok(())
    }

    /// Always `Ok`: nothing can arm a fail point in this build.
    #[cfg(not(feature = "failpoints"))]
    #[inline(always)]
    pub fn check(&self, _name: &'static str) -> anyhow::Result<()> {
        Ok(())
    }
}
