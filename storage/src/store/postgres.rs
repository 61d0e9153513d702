//! The PostgreSQL backend: a bb8 pool of tokio-postgres connections.
//!
//! Each connection prepares a SQL text once and keeps the statement. A transaction's
//! statements are sent pipelined: texts new to the connection are prepared together, then
//! every statement is sent without waiting for the one before it to answer. The server still runs them one after the other, in the order they were
//! sent, but a batch of hundreds of writes costs a handful of round trips instead of hundreds.

use super::migrations::Migration;
use super::sql::{Row, Statement, Value};
use crate::StorageError;
use bb8::{Pool, RunError};
use bb8_postgres::PostgresConnectionManager;
use bytes::BytesMut;
use futures::future::try_join_all;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::Arc;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Transaction};

/// The advisory lock key every node takes while migrating, so that only one applies a given
/// migration and the others then see it recorded. (The bytes spell "swyd-mig".)
const MIGRATION_LOCK: i64 = 0x7377_7964_2d6d_6967;

/// How many prepared statements a connection keeps. Multi-row inserts have one text per row
/// count, so the set of texts is bounded but can be large; past this the cache starts over.
const STATEMENT_CACHE_SIZE: usize = 512;

/// A pooled connection with its prepared statements, so a query is prepared once per
/// connection instead of on every call (which would cost a round trip each time).
pub(crate) struct CachedClient {
    client: tokio_postgres::Client,
    statements: HashMap<String, tokio_postgres::Statement>,
}

impl CachedClient {
    /// The prepared statement for `sql`, prepared now if this connection has not yet.
    async fn prepare(&mut self, sql: &str) -> Result<tokio_postgres::Statement, StorageError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await.map_err(postgres_error)?;
        if self.statements.len() >= STATEMENT_CACHE_SIZE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Prepares every distinct text of a transaction, all in flight together.
    async fn prepare_all(
        &mut self,
        statements: &[Statement],
    ) -> Result<HashMap<String, tokio_postgres::Statement>, StorageError> {
        let mut missing: Vec<&str> = statements
            .iter()
            .map(|statement| statement.sql.as_str())
            .filter(|text| !self.statements.contains_key(*text))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let client = &self.client;
        let prepared = try_join_all(missing.iter().map(|text| client.prepare(text)))
            .await
            .map_err(postgres_error)?;
        if self.statements.len() + missing.len() > STATEMENT_CACHE_SIZE {
            self.statements.clear();
        }
        for (text, statement) in missing.into_iter().zip(prepared) {
            self.statements.insert(text.to_owned(), statement);
        }
        let mut needed = HashMap::new();
        for statement in statements {
            let text = statement.sql.as_str();
            if let Some(prepared) = self.statements.get(text) {
                needed.insert(text.to_owned(), prepared.clone());
            }
        }
        Ok(needed)
    }
}

/// Opens [`CachedClient`]s.
pub(crate) struct Manager {
    inner: PostgresConnectionManager<NoTls>,
}

impl bb8::ManageConnection for Manager {
    type Connection = CachedClient;
    type Error = tokio_postgres::Error;

    async fn connect(&self) -> Result<CachedClient, tokio_postgres::Error> {
        let client = self.inner.connect().await?;
        Ok(CachedClient {
            client,
            statements: HashMap::new(),
        })
    }

    async fn is_valid(&self, connection: &mut CachedClient) -> Result<(), tokio_postgres::Error> {
        self.inner.is_valid(&mut connection.client).await
    }

    fn has_broken(&self, connection: &mut CachedClient) -> bool {
        connection.client.is_closed()
    }
}

/// Says which server and database could not be reached, with every cause the driver gives
/// (its own message is a summary such as `db error` that leaves the reason to its sources).
/// The URL is not quoted: it may carry a password.
fn connection_failed(
    config: &tokio_postgres::Config,
    summary: &str,
    error: &(dyn StdError + 'static),
) -> StorageError {
    // One port applies to every host; several are one per host.
    let ports = config.get_ports();
    let port = |index: usize| ports.get(index).or(ports.first()).copied().unwrap_or(5432);
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(index, host)| match host {
            tokio_postgres::config::Host::Tcp(name) => format!("{name}:{}", port(index)),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let database = config.get_dbname().or(config.get_user()).unwrap_or("?");
    let mut reason = summary.to_owned();
    let mut cause = error.source();
    while let Some(inner) = cause {
        reason.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    let place = if hosts.is_empty() {
        "no host".to_owned()
    } else {
        hosts.join(", ")
    };
    StorageError::Database(format!(
        "cannot connect to PostgreSQL database `{database}` at {place}: {reason}"
    ))
}

/// The connection pool.
pub(crate) struct PostgresExecutor {
    pool: Pool<Manager>,
}

impl PostgresExecutor {
    /// Opens one connection directly, to report why the server cannot be used if it cannot,
    /// then builds the pool and proves it answers.
    ///
    /// The direct connection comes first because the pool hides the cause: it retries until
    /// its own time limit and then says only that it timed out, where the driver would have
    /// said `connection refused` or `database "x" does not exist` at once.
    pub(crate) async fn connect(url: &str, pool_size: u32) -> Result<Self, StorageError> {
        /// How long the first connection may take: a server that answers at all answers fast.
        const FIRST_CONNECTION_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);
        /// How long a query waits for a pooled connection before failing.
        const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

        if pool_size == 0 {
            return Err(StorageError::Config(
                "the PostgreSQL pool size must be at least 1".into(),
            ));
        }
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|error| StorageError::Config(format!("invalid PostgreSQL URL: {error}")))?;
        let first_connection = async {
            let (client, connection) = config.connect(NoTls).await?;
            // Without its client the connection says goodbye to the server and ends.
            drop(client);
            connection.await
        };
        match tokio::time::timeout(FIRST_CONNECTION_WITHIN, first_connection).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(connection_failed(&config, &error.to_string(), &error)),
            Err(elapsed) => {
                let reason = format!("no answer within {FIRST_CONNECTION_WITHIN:?}");
                return Err(connection_failed(&config, &reason, &elapsed));
            }
        }
        let manager = Manager {
            inner: PostgresConnectionManager::new(config, NoTls),
        };
        let pool = Pool::builder()
            .max_size(pool_size)
            .connection_timeout(POOL_WAIT)
            .build(manager)
            .await
            .map_err(postgres_error)?;
        let executor = PostgresExecutor { pool };
        executor.query("SELECT 1", Vec::new()).await?;
        Ok(executor)
    }

    /// Runs a query on a pooled connection.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Row>, StorageError> {
        let mut connection = self.pool.get().await.map_err(pool_error)?;
        let statement = connection.prepare(sql).await?;
        let rows = connection
            .client
            .query(&statement, &references(&params))
            .await
            .map_err(postgres_error)?;
        rows.iter().map(row).collect()
    }

    /// Runs one statement and returns how many rows it changed.
    pub(crate) async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError> {
        let mut connection = self.pool.get().await.map_err(pool_error)?;
        let statement = connection.prepare(sql).await?;
        connection
            .client
            .execute(&statement, &references(&params))
            .await
            .map_err(postgres_error)
    }

    /// Runs the statements in one transaction, in order. `None` when a required statement
    /// returned no row and the transaction was rolled back.
    pub(crate) async fn transaction(
        &self,
        statements: Vec<Statement>,
    ) -> Result<Option<Vec<Vec<Row>>>, StorageError> {
        let mut connection = self.pool.get().await.map_err(pool_error)?;
        let prepared = connection.prepare_all(&statements).await?;
        let transaction = connection
            .client
            .transaction()
            .await
            .map_err(postgres_error)?;
        let results = if statements
            .iter()
            .any(|statement| !statement.carries.is_empty())
        {
            run_in_sequence(&transaction, &statements, &prepared).await?
        } else {
            run_pipelined(&transaction, &statements, &prepared).await?
        };
        let complete = statements
            .iter()
            .zip(&results)
            .all(|(statement, rows)| !statement.required || !rows.is_empty());
        if !complete {
            transaction.rollback().await.map_err(postgres_error)?;
            return Ok(None);
        }
        transaction.commit().await.map_err(postgres_error)?;
        Ok(Some(results))
    }

    /// Applies the migrations not yet recorded, each in its own transaction, under an advisory
    /// lock so that nodes starting together do not apply one twice.
    pub(crate) async fn migrate(
        &self,
        migrations: &'static [Migration],
    ) -> Result<(), StorageError> {
        let mut connection = self.pool.get().await.map_err(pool_error)?;
        for migration in migrations {
            let transaction = connection
                .client
                .transaction()
                .await
                .map_err(postgres_error)?;
            let applied = apply_migration(&transaction, migration).await?;
            transaction.commit().await.map_err(postgres_error)?;
            if applied {
                tracing::info!(migration.version = migration.version, "migration applied");
            }
        }
        Ok(())
    }
}

/// Applies one migration inside `transaction`; false when it was already applied.
async fn apply_migration(
    transaction: &Transaction<'_>,
    migration: &Migration,
) -> Result<bool, StorageError> {
    // The lock is released by the transaction's end, commit or rollback.
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(postgres_error)?;
    // `IF NOT EXISTS` on a table that exists raises a NOTICE on every start; it says nothing.
    transaction
        .batch_execute(
            "SET LOCAL client_min_messages TO warning;
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 version BIGINT PRIMARY KEY,
                 applied_at BIGINT NOT NULL
             )",
        )
        .await
        .map_err(postgres_error)?;
    let applied = transaction
        .query_opt(
            "SELECT version FROM schema_migrations WHERE version = $1",
            &[&migration.version],
        )
        .await
        .map_err(postgres_error)?;
    if applied.is_some() {
        return Ok(false);
    }
    transaction
        .batch_execute(migration.postgres)
        .await
        .map_err(|error| migration.failed(error))?;
    let now = switchyard_engine::Timestamp::now().0;
    transaction
        .execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&migration.version, &now],
        )
        .await
        .map_err(postgres_error)?;
    Ok(true)
}

/// Runs statements one after the other, for transactions whose later statements need values
/// returned by earlier ones.
async fn run_in_sequence(
    transaction: &Transaction<'_>,
    statements: &[Statement],
    prepared: &HashMap<String, tokio_postgres::Statement>,
) -> Result<Vec<Vec<Row>>, StorageError> {
    let mut results = Vec::with_capacity(statements.len());
    for statement in statements {
        let params = statement.bound_params(&results)?;
        let rows = transaction
            .query(&prepared[statement.sql.as_str()], &references(&params))
            .await
            .map_err(postgres_error)?;
        results.push(rows.iter().map(row).collect::<Result<Vec<_>, _>>()?);
        if statement.required && results.last().is_some_and(Vec::is_empty) {
            break;
        }
    }
    Ok(results)
}

/// Sends every statement (each prepared beforehand) before reading any answer.
///
/// tokio-postgres writes a prepared statement's request to the connection the first time its
/// future is polled, and `try_join_all` first-polls its futures in the order given, so the
/// server receives (and runs) the statements in order.
async fn run_pipelined(
    transaction: &Transaction<'_>,
    statements: &[Statement],
    prepared: &HashMap<String, tokio_postgres::Statement>,
) -> Result<Vec<Vec<Row>>, StorageError> {
    let params: Vec<Vec<&(dyn ToSql + Sync)>> = statements
        .iter()
        .map(|statement| references(&statement.params))
        .collect();
    let queries = statements.iter().zip(&params).map(|(statement, params)| {
        let prepared = &prepared[statement.sql.as_str()];
        transaction.query(prepared, params)
    });
    let answers = try_join_all(queries).await.map_err(postgres_error)?;
    answers
        .iter()
        .map(|rows| rows.iter().map(row).collect())
        .collect()
}

fn references(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|value| value as &(dyn ToSql + Sync))
        .collect()
}

/// Reads a row by its columns' types.
fn row(row: &tokio_postgres::Row) -> Result<Row, StorageError> {
    let columns: Arc<[String]> = row
        .columns()
        .iter()
        .map(|column| column.name().to_owned())
        .collect();
    let cells = (0..columns.len())
        .map(|index| cell(row, index))
        .collect::<Result<_, _>>()?;
    Ok(Row::new(columns, cells))
}

fn cell(row: &tokio_postgres::Row, index: usize) -> Result<Value, StorageError> {
    let column = &row.columns()[index];
    let value = match *column.type_() {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(index)
            .map(|cell| cell.map(Value::I64)),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(index)
            .map(|cell| cell.map(|v| Value::I64(v.into()))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(index)
            .map(|cell| cell.map(|v| Value::I64(v.into()))),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(index)
            .map(|cell| cell.map(Value::F64)),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(index)
            .map(|cell| cell.map(|v| Value::F64(v.into()))),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(index)
            .map(|cell| cell.map(Value::Bool)),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => row
            .try_get::<_, Option<String>>(index)
            .map(|cell| cell.map(Value::Text)),
        ref other => {
            return Err(StorageError::Corrupt {
                table: "(query result)",
                reason: format!("column `{}` has unsupported type {other}", column.name()),
            });
        }
    };
    value
        .map(|cell| cell.unwrap_or(Value::Null))
        .map_err(postgres_error)
}

impl ToSql for Value {
    /// Encodes the value as the type the server inferred for its placeholder: an integer may
    /// go into any integer or float column, text into any text column, `NULL` anywhere.
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::I64(value), &Type::INT4) => i32::try_from(*value)?.to_sql(ty, out),
            (Value::I64(value), &Type::INT2) => i16::try_from(*value)?.to_sql(ty, out),
            (Value::I64(value), &Type::FLOAT8) => (*value as f64).to_sql(ty, out),
            (Value::I64(value), _) => value.to_sql(ty, out),
            (Value::F64(value), &Type::FLOAT4) => (*value as f32).to_sql(ty, out),
            (Value::F64(value), _) => value.to_sql(ty, out),
            (Value::Text(value), _) => value.to_sql(ty, out),
            (Value::Bool(value), _) => value.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Every value is checked against the actual type in `to_sql`, which reports a mismatch.
        true
    }

    to_sql_checked!();
}

fn pool_error(error: RunError<tokio_postgres::Error>) -> StorageError {
    match error {
        RunError::User(error) => postgres_error(error),
        RunError::TimedOut => {
            StorageError::Database("timed out waiting for a PostgreSQL connection".into())
        }
    }
}

/// Maps a tokio-postgres error: a broken uniqueness rule is a [`StorageError::Conflict`] naming
/// the columns as SQLite does (`users.email`), anything else a [`StorageError::Database`].
pub(crate) fn postgres_error(error: tokio_postgres::Error) -> StorageError {
    if let Some(db) = error.as_db_error()
        && *db.code() == SqlState::UNIQUE_VIOLATION
    {
        return StorageError::Conflict(conflict_target(db));
    }
    StorageError::Database(format!("postgres: {error}"))
}

/// `users.email` from a detail such as `Key (email)=(a@example.com) already exists.`
fn conflict_target(db: &tokio_postgres::error::DbError) -> String {
    let table = db.table().unwrap_or("table");
    let columns = db
        .detail()
        .and_then(|detail| detail.strip_prefix("Key ("))
        .and_then(|rest| rest.split_once(")=("))
        .map(|(columns, _)| columns);
    match columns {
        Some(columns) => columns
            .split(", ")
            .map(|column| format!("{table}.{column}"))
            .collect::<Vec<_>>()
            .join(", "),
        None => db.constraint().unwrap_or(table).to_owned(),
    }
}
