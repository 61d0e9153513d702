//! The tiny SQL vocabulary both backends share: parameter and cell values, rows, and the
//! statements of a transaction.
//!
//! The repository code in [`crate::store`] writes every statement once, with PostgreSQL's
//! `$1, $2` placeholders, and reads rows through the typed accessors here. Each backend only
//! has to bind [`Value`]s and turn its own rows into [`Row`]s; nothing above this module knows
//! which database answered.

use crate::StorageError;
use std::sync::Arc;

/// A statement parameter or a cell of a result row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// SQL `NULL`.
    Null,
    /// An integer (ids, codes, counters, timestamps in microseconds).
    I64(i64),
    /// A floating-point number.
    F64(f64),
    /// Text, including JSON documents.
    Text(String),
    /// A boolean. SQLite has none: it binds 0 or 1 and reads back an integer.
    Bool(bool),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::I64(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(switchyard_engine::message::storable_text(value.to_owned()))
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(switchyard_engine::message::storable_text(value))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

/// Builds a parameter list from values of mixed types: `params![id, name, None::<i64>]`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::store::sql::Value::from($value)),*]
    };
}
pub(crate) use params;

/// One result row: its cells, by the column names of the query that produced it.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    columns: Arc<[String]>,
    cells: Vec<Value>,
}

impl Row {
    /// A row of `cells`, named by `columns` (shared by every row of one result).
    pub(crate) fn new(columns: Arc<[String]>, cells: Vec<Value>) -> Self {
        Row { columns, cells }
    }

    /// The cell of a column, if the query returned that column.
    pub(crate) fn cell(&self, column: &str) -> Option<&Value> {
        let index = self.columns.iter().position(|name| name == column)?;
        self.cells.get(index)
    }

    /// Typed access to the cells, naming `table` in any error.
    pub(crate) fn reader(&self, table: &'static str) -> Cells<'_> {
        Cells { row: self, table }
    }
}

/// Reads a row's cells as Rust types; a missing column or a cell of the wrong type is a
/// [`StorageError::Corrupt`] naming the table and column.
#[derive(Clone, Copy)]
pub(crate) struct Cells<'a> {
    row: &'a Row,
    table: &'static str,
}

impl Cells<'_> {
    /// An error about this row's table.
    pub(crate) fn corrupt(&self, reason: impl Into<String>) -> StorageError {
        StorageError::Corrupt {
            table: self.table,
            reason: reason.into(),
        }
    }

    fn value(&self, column: &str) -> Result<&Value, StorageError> {
        self.row
            .cell(column)
            .ok_or_else(|| self.corrupt(format!("the query returned no column `{column}`")))
    }

    fn wrong_type(&self, column: &str, expected: &str, found: &Value) -> StorageError {
        self.corrupt(format!(
            "column `{column}` holds {found:?}, expected {expected}"
        ))
    }

    /// A non-null integer.
    pub(crate) fn i64(&self, column: &str) -> Result<i64, StorageError> {
        self.opt_i64(column)?
            .ok_or_else(|| self.corrupt(format!("column `{column}` is null")))
    }

    /// A nullable integer.
    pub(crate) fn opt_i64(&self, column: &str) -> Result<Option<i64>, StorageError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::I64(value) => Ok(Some(*value)),
            other => Err(self.wrong_type(column, "an integer", other)),
        }
    }

    /// A non-null text.
    pub(crate) fn text(&self, column: &str) -> Result<String, StorageError> {
        self.opt_text(column)?
            .ok_or_else(|| self.corrupt(format!("column `{column}` is null")))
    }

    /// A nullable text.
    pub(crate) fn opt_text(&self, column: &str) -> Result<Option<String>, StorageError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Text(value) => Ok(Some(value.clone())),
            other => Err(self.wrong_type(column, "text", other)),
        }
    }

    /// A boolean; SQLite's integers 0 and 1 read as false and true.
    pub(crate) fn bool(&self, column: &str) -> Result<bool, StorageError> {
        match self.value(column)? {
            Value::Bool(value) => Ok(*value),
            Value::I64(0) => Ok(false),
            Value::I64(1) => Ok(true),
            other => Err(self.wrong_type(column, "a boolean", other)),
        }
    }

    /// A JSON document stored as text.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        &self,
        column: &str,
    ) -> Result<T, StorageError> {
        let text = self.text(column)?;
        serde_json::from_str(&text)
            .map_err(|error| self.corrupt(format!("column `{column}` is not valid JSON: {error}")))
    }
}

/// Where a parameter of a transaction's statement takes its value from an earlier statement's
/// first result row (an id the database just allocated).
#[derive(Clone, Debug)]
pub(crate) struct Carry {
    /// The index of the parameter to fill (0 for `$1`).
    pub(crate) param: usize,
    /// The index of the earlier statement in the transaction.
    pub(crate) statement: usize,
    /// The column of that statement's first row.
    pub(crate) column: &'static str,
}

/// One statement of a transaction.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    /// The SQL text with `$N` placeholders.
    pub(crate) sql: String,
    /// The parameters, in placeholder order.
    pub(crate) params: Vec<Value>,
    /// Parameters filled from earlier statements' results just before this one runs.
    pub(crate) carries: Vec<Carry>,
    /// Whether the whole transaction is rolled back when this statement returns no row.
    pub(crate) required: bool,
}

impl Statement {
    /// A statement with its parameters.
    pub(crate) fn new(sql: impl Into<String>, params: Vec<Value>) -> Self {
        Statement {
            sql: sql.into(),
            params,
            carries: Vec::new(),
            required: false,
        }
    }

    /// Fills parameter `$param` (1-based, as written in the SQL) from `column` of the first row
    /// that statement `statement` of the same transaction returned.
    pub(crate) fn carry(mut self, param: usize, statement: usize, column: &'static str) -> Self {
        self.carries.push(Carry {
            param: param - 1,
            statement,
            column,
        });
        self
    }

    /// Rolls the transaction back when this statement returns no row.
    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The parameters with the carried values filled in from `earlier` results.
    pub(crate) fn bound_params(&self, earlier: &[Vec<Row>]) -> Result<Vec<Value>, StorageError> {
        let mut params = self.params.clone();
        for carry in &self.carries {
            let value = earlier
                .get(carry.statement)
                .and_then(|rows| rows.first())
                .and_then(|row| row.cell(carry.column))
                .ok_or_else(|| {
                    StorageError::Database(format!(
                        "statement {} returned no `{}` to carry",
                        carry.statement, carry.column
                    ))
                })?;
            match params.get_mut(carry.param) {
                Some(slot) => *slot = value.clone(),
                None => {
                    return Err(StorageError::Database(format!(
                        "statement has no parameter ${} to carry into",
                        carry.param + 1
                    )));
                }
            }
        }
        Ok(params)
    }
}

/// Builds SQL with a growing parameter list, for statements whose shape depends on the input
/// (optional filters, multi-row `VALUES`).
#[derive(Debug, Default)]
pub(crate) struct SqlBuilder {
    sql: String,
    params: Vec<Value>,
}

impl SqlBuilder {
    /// Starts with `sql`.
    pub(crate) fn new(sql: &str) -> Self {
        SqlBuilder {
            sql: sql.to_owned(),
            params: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.params.push(value.into());
        let placeholder = format!("${}", self.params.len());
        self.sql.push_str(&placeholder);
        self
    }

    /// Appends `(v1, v2, ...)` with a placeholder for each value.
    pub(crate) fn bind_tuple(&mut self, values: Vec<Value>) -> &mut Self {
        self.sql.push('(');
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.sql.push_str(", ");
            }
            self.bind(value);
        }
        self.sql.push(')');
        self
    }

    /// The finished SQL and its parameters.
    pub(crate) fn finish(self) -> (String, Vec<Value>) {
        (self.sql, self.params)
    }

    /// The finished statement.
    pub(crate) fn statement(self) -> Statement {
        Statement::new(self.sql, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_carried_parameter_takes_the_earlier_statements_first_row() {
        let columns: Arc<[String]> = vec!["id".to_owned()].into();
        let earlier = vec![vec![Row::new(columns, vec![Value::I64(7)])]];
        let statement =
            Statement::new("INSERT INTO t VALUES ($1, $2)", params![0_i64, "x"]).carry(1, 0, "id");

        let params = statement
            .bound_params(&earlier)
            .expect("the carry finds its value");

        assert_eq!(params, vec![Value::I64(7), Value::Text("x".into())]);
    }

    #[test]
    fn the_builder_numbers_placeholders_in_order() {
        let mut sql = SqlBuilder::new("SELECT 1 WHERE a = ");
        sql.bind(1_i64)
            .push(" AND b IN ")
            .bind_tuple(params![2_i64, 3_i64]);

        let (text, params) = sql.finish();

        assert_eq!(text, "SELECT 1 WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(params.len(), 3);
    }
}
