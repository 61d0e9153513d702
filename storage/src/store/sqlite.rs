//! The SQLite backend: one writer thread and a few reader threads, each owning a connection.
//!
//! rusqlite is synchronous, so no connection is ever touched from an async task. Work is sent
//! to a thread as a closure over a channel and the answer comes back on a tokio oneshot, so a
//! slow disk never blocks the runtime's worker threads.
//!
//! All writes go through the single writer connection: SQLite allows one writer at a time
//! anyway, and one connection means no `SQLITE_BUSY` between our own writers. The database is
//! in WAL mode so the readers run alongside the writer and see every committed transaction.
//! `synchronous = FULL` makes each commit wait for the WAL to reach the disk: a transaction
//! that returned is durable even if the machine loses power, which is what acknowledging a
//! webhook promises. (`NORMAL` would be faster but can lose the last commits on power loss.)

use super::migrations::Migration;
use super::sql::{Row, Statement, Value};
use crate::StorageError;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// How many reader threads (and read connections) to run.
const READERS: usize = 4;

/// How long a connection waits for a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 128;

/// Work for a connection thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The handles on the writer and reader threads. Dropping it closes the channels, and each
/// thread then finishes its last job, closes its connection and ends.
pub(crate) struct SqliteExecutor {
    writer: mpsc::Sender<Job>,
    readers: mpsc::Sender<Job>,
}

impl SqliteExecutor {
    /// Opens (creating if needed) the database file and starts the threads.
    pub(crate) fn open(path: &Path) -> Result<Self, StorageError> {
        // Each connection would open a database of its own in memory, so the readers would
        // never see what the writer stored.
        if path.as_os_str() == ":memory:" {
            return Err(StorageError::Config(
                "the SQLite database must be a file, not :memory:".into(),
            ));
        }
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|error| {
                StorageError::Config(format!("cannot create {}: {error}", parent.display()))
            })?;
        }

        // The writer opens first: it creates the file and switches it to WAL mode, which the
        // read-only connections cannot do themselves.
        let writer = open_writer(path)?;
        let writer = spawn_thread("sqlite-writer", writer)?;
        let (readers, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..READERS {
            let connection = open_reader(path)?;
            spawn_shared_thread(&format!("sqlite-reader-{index}"), connection, queue.clone())?;
        }
        Ok(SqliteExecutor { writer, readers })
    }

    /// Runs a read-only query on a reader connection.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Row>, StorageError> {
        let sql = placeholders(sql);
        run(&self.readers, move |connection| {
            query_rows(connection, &sql, &params)
        })
        .await
    }

    /// Runs one statement on the writer connection and returns the rows it produced.
    pub(crate) async fn write(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Row>, StorageError> {
        let sql = placeholders(sql);
        run(&self.writer, move |connection| {
            query_rows(connection, &sql, &params)
        })
        .await
    }

    /// Runs one statement on the writer connection and returns how many rows it changed.
    pub(crate) async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError> {
        let sql = placeholders(sql);
        run(&self.writer, move |connection| {
            let mut statement = connection.prepare_cached(&sql).map_err(database_error)?;
            let changed = statement.execute(rusqlite::params_from_iter(&params));
            changed.map(|count| count as u64).map_err(database_error)
        })
        .await
    }

    /// Runs the statements in one immediate transaction, in order. `None` when a required
    /// statement returned no row and the transaction was rolled back.
    pub(crate) async fn transaction(
        &self,
        statements: Vec<Statement>,
    ) -> Result<Option<Vec<Vec<Row>>>, StorageError> {
        run(&self.writer, move |connection| {
            run_transaction(connection, statements)
        })
        .await
    }

    /// Applies the migrations not yet recorded, each in its own transaction.
    pub(crate) async fn migrate(
        &self,
        migrations: &'static [Migration],
    ) -> Result<(), StorageError> {
        run(&self.writer, move |connection| {
            for migration in migrations {
                apply_migration(connection, migration)?;
            }
            Ok(())
        })
        .await
    }
}

/// Sends `work` to a connection thread and waits for its answer.
async fn run<T: Send + 'static>(
    jobs: &mpsc::Sender<Job>,
    work: impl FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    let (reply, answer) = oneshot::channel();
    let job: Job = Box::new(move |connection| {
        // The caller may have stopped waiting; the work is done either way.
        let _ = reply.send(work(connection));
    });
    jobs.send(job).map_err(|_| thread_gone())?;
    answer.await.map_err(|_| thread_gone())?
}

fn thread_gone() -> StorageError {
    StorageError::Database("the SQLite connection thread dropped the request".into())
}

fn open_writer(path: &Path) -> Result<Connection, StorageError> {
    let connection = Connection::open(path).map_err(|error| open_error(path, error))?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(database_error)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(database_error)?;
    Ok(connection)
}

fn open_reader(path: &Path) -> Result<Connection, StorageError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let connection =
        Connection::open_with_flags(path, flags).map_err(|error| open_error(path, error))?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(database_error)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

fn open_error(path: &Path, error: rusqlite::Error) -> StorageError {
    StorageError::Config(format!(
        "cannot open SQLite database {}: {error}",
        path.display()
    ))
}

/// Starts the writer thread, which alone receives from its channel.
fn spawn_thread(name: &str, connection: Connection) -> Result<mpsc::Sender<Job>, StorageError> {
    let (sender, receiver) = mpsc::channel::<Job>();
    spawn_shared_thread(name, connection, Arc::new(Mutex::new(receiver)))?;
    Ok(sender)
}

/// Starts a thread that takes jobs from a queue it may share with sibling threads. A thread
/// holds the queue's lock only while waiting for the next job, so an idle sibling takes the
/// job after it.
fn spawn_shared_thread(
    name: &str,
    mut connection: Connection,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
) -> Result<(), StorageError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            while let Some(job) = next_job(&queue) {
                // A panicking job loses its own answer (the caller sees the thread as gone for
                // that call) but must not take the connection down for everyone else.
                if catch_unwind(AssertUnwindSafe(|| job(&mut connection))).is_err() {
                    tracing::error!("sqlite job panicked");
                }
            }
        })
        .map_err(|error| StorageError::Database(format!("cannot start {name}: {error}")))?;
    Ok(())
}

fn next_job(queue: &Mutex<mpsc::Receiver<Job>>) -> Option<Job> {
    queue.lock().ok()?.recv().ok()
}

fn query_rows(
    connection: &Connection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, StorageError> {
    let mut statement = connection.prepare_cached(sql).map_err(database_error)?;
    let columns: Arc<[String]> = statement.column_names().map(str::to_owned).collect();
    let mut rows = statement
        .query(rusqlite::params_from_iter(params))
        .map_err(database_error)?;
    let mut result = Vec::new();
    while let Some(row) = rows.next().map_err(database_error)? {
        let cells = (0..columns.len())
            .map(|index| row.get_ref(index).map(cell))
            .collect::<Result<Vec<_>, _>>()
            .map_err(database_error)?;
        result.push(Row::new(columns.clone(), cells));
    }
    Ok(result)
}

fn run_transaction(
    connection: &mut Connection,
    statements: Vec<Statement>,
) -> Result<Option<Vec<Vec<Row>>>, StorageError> {
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(database_error)?;
    let mut results: Vec<Vec<Row>> = Vec::with_capacity(statements.len());
    for statement in &statements {
        let params = statement.bound_params(&results)?;
        let rows = query_rows(&transaction, &placeholders(&statement.sql), &params)?;
        if statement.required && rows.is_empty() {
            // Dropping the transaction rolls it back.
            return Ok(None);
        }
        results.push(rows);
    }
    transaction.commit().map_err(database_error)?;
    Ok(Some(results))
}

fn apply_migration(connection: &mut Connection, migration: &Migration) -> Result<(), StorageError> {
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(database_error)?;
    transaction
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version INTEGER PRIMARY KEY,
                 applied_at INTEGER NOT NULL
             )",
        )
        .map_err(database_error)?;
    let applied: Option<i64> = transaction
        .query_row(
            "SELECT version FROM schema_migrations WHERE version = ?1",
            [migration.version],
            |row| row.get(0),
        )
        .map(Some)
        .or_else(|error| match error {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })
        .map_err(database_error)?;
    if applied.is_some() {
        return Ok(());
    }
    transaction
        .execute_batch(migration.sqlite)
        .map_err(|error| migration.failed(error))?;
    transaction
        .execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            [migration.version, switchyard_engine::Timestamp::now().0],
        )
        .map_err(database_error)?;
    transaction.commit().map_err(database_error)?;
    tracing::info!(migration.version = migration.version, "migration applied");
    Ok(())
}

fn cell(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(value) => Value::I64(value),
        ValueRef::Real(value) => Value::F64(value),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            Value::Text(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::I64(value) => ValueRef::Integer(*value),
            Value::F64(value) => ValueRef::Real(*value),
            Value::Text(value) => ValueRef::Text(value.as_bytes()),
            Value::Bool(value) => ValueRef::Integer(i64::from(*value)),
        }))
    }
}

/// Rewrites PostgreSQL's `$N` placeholders as SQLite's `?N` (same numbering). The SQL text in
/// this crate never has a `$` inside a string literal, so a plain scan is enough.
pub(crate) fn placeholders(sql: &str) -> String {
    let mut rewritten = String::with_capacity(sql.len());
    let mut characters = sql.chars().peekable();
    while let Some(character) = characters.next() {
        let numbered = character == '$' && characters.peek().is_some_and(char::is_ascii_digit);
        rewritten.push(if numbered { '?' } else { character });
    }
    rewritten
}

/// Maps a rusqlite error: a broken uniqueness rule is a [`StorageError::Conflict`] naming the
/// columns (`users.email`), anything else a [`StorageError::Database`].
pub(crate) fn database_error(error: rusqlite::Error) -> StorageError {
    if let rusqlite::Error::SqliteFailure(failure, message) = &error {
        let unique = failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY;
        if unique {
            let message = message.as_deref().unwrap_or("unique constraint");
            let what = message
                .strip_prefix("UNIQUE constraint failed: ")
                .unwrap_or(message);
            return StorageError::Conflict(what.to_owned());
        }
    }
    StorageError::Database(format!("sqlite: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_question_marks() {
        assert_eq!(
            placeholders("a = $1 AND b = $12 AND c = '$'"),
            "a = ?1 AND b = ?12 AND c = '$'"
        );
    }
}
