//! The sandbox's error type (start-up and state-file failures; protocol refusals are answers, not errors).

/// What can go wrong building or running the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The SQLite state file could not be opened, read or written.
    #[error("state file: {context}: {source}")]
    Store {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The configuration is incomplete or contradictory.
    #[error("sandbox configuration: {0}")]
    Config(String),
    /// The sandbox refused an operation of its Rust or test API (no such trade, wrong state).
    #[error("refused: {0}")]
    Refused(String),
    /// A key or signature problem from the `alipay` crate.
    #[error(transparent)]
    Alipay(#[from] alipay::Error),
}

impl Error {
    pub(crate) fn store(context: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Store { context: context.into(), source: Box::new(source) }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
