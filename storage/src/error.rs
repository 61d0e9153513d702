//! Storage errors.

use thiserror::Error;

/// Why a storage operation failed.
#[derive(Debug, Error)]
pub enum StorageError {
    /// A uniqueness rule was broken (an e-mail already taken, a phone number already
    /// connected); the text names what collided.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(String),
    /// A stored row could not be read back into the model (a corrupt or foreign row).
    #[error("corrupt row in {table}: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The configuration names a database this build cannot open.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// The writer is shutting down or gone.
    #[error("storage writer unavailable")]
    WriterGone,
}
