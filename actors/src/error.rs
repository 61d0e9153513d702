//! Errors the actor system reports to its callers (the gateways).

use switchyard_storage::StorageError;
use thiserror::Error;

/// Why a request to the engine failed.
#[derive(Debug, Error)]
pub enum EngineError {
    /// Storage failed; the request may be retried.
    #[error("storage failed: {0}")]
    Storage(#[from] StorageError),
    /// What the request names does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is not valid in the current state; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// The actor that should handle the request is gone or did not answer in time; the
    /// request may be retried.
    #[error("engine unavailable: {0}")]
    Unavailable(String),
}

impl EngineError {
    /// Whether a caller may retry the same request later (a provider webhook answered 503).
    pub fn is_transient(&self) -> bool {
        matches!(self, EngineError::Storage(_) | EngineError::Unavailable(_))
    }
}
