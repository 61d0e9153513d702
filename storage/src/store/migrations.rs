//! The schema migrations, embedded in the binary so that `switchyard migrate` needs no files.
//!
//! Each migration exists once per dialect and both must describe the same tables. They are
//! applied in version order, each in its own transaction, and recorded in `schema_migrations`;
//! a recorded version is never applied again, so a migration must not be edited once released
//! (add a new one instead).

use crate::StorageError;
use std::fmt::Display;

/// One versioned schema change, in both dialects.
#[derive(Debug)]
pub(crate) struct Migration {
    /// The version, recorded in `schema_migrations` once applied.
    pub(crate) version: i64,
    /// The SQLite script.
    pub(crate) sqlite: &'static str,
    /// The PostgreSQL script.
    pub(crate) postgres: &'static str,
}

impl Migration {
    /// The error for this migration's script failing.
    pub(crate) fn failed(&self, error: impl Display) -> StorageError {
        StorageError::Database(format!("migration {} failed: {error}", self.version))
    }
}

/// Every migration, oldest first.
pub(crate) static MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sqlite: include_str!("../../migrations/sqlite/0001_init.sql"),
    postgres: include_str!("../../migrations/postgres/0001_init.sql"),
}];
