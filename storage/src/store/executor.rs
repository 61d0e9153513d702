//! One executor over either backend: what the repository code in [`crate::store`] calls.

use super::migrations::MIGRATIONS;
use super::postgres::PostgresExecutor;
use super::sql::{Row, Statement, Value};
use super::sqlite::SqliteExecutor;
use crate::StorageError;

/// Runs SQL on whichever database the store was opened on.
pub(crate) enum Executor {
    /// An SQLite file.
    Sqlite(SqliteExecutor),
    /// A PostgreSQL server.
    Postgres(PostgresExecutor),
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend_name())
    }
}

impl Executor {
    /// `"sqlite"` or `"postgres"`.
    pub(crate) fn backend_name(&self) -> &'static str {
        match self {
            Executor::Sqlite(_) => "sqlite",
            Executor::Postgres(_) => "postgres",
        }
    }

    /// Runs a read-only query. On SQLite it may run on any reader connection.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Row>, StorageError> {
        match self {
            Executor::Sqlite(sqlite) => sqlite.query(sql, params).await,
            Executor::Postgres(postgres) => postgres.query(sql, params).await,
        }
    }

    /// Runs a read-only query expected to return at most one row.
    pub(crate) async fn query_opt(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Option<Row>, StorageError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Runs one writing statement (usually with `RETURNING`) and returns its rows.
    pub(crate) async fn write(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Row>, StorageError> {
        match self {
            Executor::Sqlite(sqlite) => sqlite.write(sql, params).await,
            Executor::Postgres(postgres) => postgres.query(sql, params).await,
        }
    }

    /// Runs one writing statement expected to return exactly one row.
    pub(crate) async fn write_one(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Row, StorageError> {
        self.write(sql, params)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StorageError::Database("a writing statement returned no row".into()))
    }

    /// Runs one writing statement and returns how many rows it changed.
    pub(crate) async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError> {
        match self {
            Executor::Sqlite(sqlite) => sqlite.execute(sql, params).await,
            Executor::Postgres(postgres) => postgres.execute(sql, params).await,
        }
    }

    /// Runs the statements in one transaction, in order, and returns each one's rows. `None`
    /// when a statement marked required returned no row, and everything was rolled back.
    pub(crate) async fn transaction(
        &self,
        statements: Vec<Statement>,
    ) -> Result<Option<Vec<Vec<Row>>>, StorageError> {
        if statements.is_empty() {
            return Ok(Some(Vec::new()));
        }
        match self {
            Executor::Sqlite(sqlite) => sqlite.transaction(statements).await,
            Executor::Postgres(postgres) => postgres.transaction(statements).await,
        }
    }

    /// Applies every migration not yet applied.
    pub(crate) async fn migrate(&self) -> Result<(), StorageError> {
        match self {
            Executor::Sqlite(sqlite) => sqlite.migrate(MIGRATIONS).await,
            Executor::Postgres(postgres) => postgres.migrate(MIGRATIONS).await,
        }
    }
}
