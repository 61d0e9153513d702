//! Turns a batch of writes into as few statements as give the same result.
//!
//! A batch comes from the write-behind writer and holds the changes of many conversations. New
//! messages and new events become multi-row `INSERT`s (a few hundred rows each); updates of the
//! same message or conversation collapse to the last one, since each carries the whole new
//! state. The statements run in this order: message inserts, message updates, conversation
//! saves, event inserts. That gives the same result as applying the writes one by one, because
//! a message is always inserted before it is updated, and the other kinds touch different rows.

use super::rows::{
    EVENT_COLUMN_COUNT, EVENT_COLUMNS, MESSAGE_COLUMN_COUNT, MESSAGE_COLUMNS, SAVE_CONVERSATION,
    UPDATE_MESSAGE, conversation_state_values, event_values, message_update_values, message_values,
};
use super::sql::{SqlBuilder, Statement, Value};
use crate::StorageError;
use crate::records::Write;
use std::collections::HashMap;
use switchyard_engine::conversation::Conversation;
use switchyard_engine::event::Event;
use switchyard_engine::message::Message;

/// The most rows one multi-row `INSERT` carries. With 17 columns a statement of this many rows
/// stays far below both databases' parameter limits (32,766 for SQLite, 65,535 for PostgreSQL).
const ROWS_PER_INSERT: usize = 500;

/// The statements that apply `writes`.
pub(crate) fn statements(writes: &[&Write]) -> Result<Vec<Statement>, StorageError> {
    let mut inserts: Vec<&Message> = Vec::new();
    let mut updates: Vec<&Message> = Vec::new();
    let mut saves: Vec<&Conversation> = Vec::new();
    let mut events: Vec<&Event> = Vec::new();
    for write in writes {
        match write {
            Write::InsertMessage(message) => inserts.push(message),
            Write::UpdateMessage(message) => updates.push(message),
            Write::SaveConversation(conversation) => saves.push(conversation),
            Write::AppendEvent(event) => events.push(event),
        }
    }

    let mut statements = message_inserts(&inserts)?;
    let updates = last_of_each(updates, |message| message.id.0);
    statements.extend(
        updates
            .into_iter()
            .map(|message| Statement::new(UPDATE_MESSAGE, message_update_values(message))),
    );
    let saves = last_of_each(saves, |conversation| conversation.id.0);
    statements.extend(saves.into_iter().map(|conversation| {
        Statement::new(SAVE_CONVERSATION, conversation_state_values(conversation))
    }));
    statements.extend(event_inserts(&events));
    Ok(statements)
}

/// Multi-row inserts of new messages. A message whose incoming `(inbox_id, source_id)` or id
/// is already stored (a retried webhook, a replayed batch) is skipped.
fn message_inserts(messages: &[&Message]) -> Result<Vec<Statement>, StorageError> {
    messages
        .chunks(ROWS_PER_INSERT)
        .map(|chunk| {
            let rows = chunk.iter().map(|message| message_values(message));
            let rows = rows.collect::<Result<Vec<_>, _>>()?;
            Ok(multi_row_insert(
                "messages",
                MESSAGE_COLUMNS,
                MESSAGE_COLUMN_COUNT,
                rows,
            ))
        })
        .collect()
}

/// Multi-row inserts of events; an event already stored (same conversation and seq) is
/// skipped, so replaying a batch is harmless.
fn event_inserts(events: &[&Event]) -> Vec<Statement> {
    events
        .chunks(ROWS_PER_INSERT)
        .map(|chunk| {
            let rows = chunk.iter().map(|event| event_values(event)).collect();
            multi_row_insert("events", EVENT_COLUMNS, EVENT_COLUMN_COUNT, rows)
        })
        .collect()
}

/// `INSERT INTO table (columns) VALUES (...), (...) ON CONFLICT DO NOTHING`. Without a
/// conflict target the clause covers every unique rule of the table, the partial index on
/// incoming provider ids included, in both dialects.
fn multi_row_insert(table: &str, columns: &str, width: usize, rows: Vec<Vec<Value>>) -> Statement {
    let mut sql = SqlBuilder::new(&format!("INSERT INTO {table} ({columns}) VALUES "));
    for (index, row) in rows.into_iter().enumerate() {
        debug_assert_eq!(
            row.len(),
            width,
            "a {table} row has the wrong number of values"
        );
        if index > 0 {
            sql.push(", ");
        }
        sql.bind_tuple(row);
    }
    sql.push(" ON CONFLICT DO NOTHING");
    sql.statement()
}

/// Keeps only the last item for each key, in the order of those last items.
fn last_of_each<T>(items: Vec<&T>, key: impl Fn(&T) -> i64) -> Vec<&T> {
    let mut last: HashMap<i64, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        last.insert(key(item), index);
    }
    items
        .into_iter()
        .enumerate()
        .filter(|(index, item)| last.get(&key(item)) == Some(index))
        .map(|(_, item)| item)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_update_of_each_row_is_kept() {
        let items = [(1, "a"), (2, "b"), (1, "c")];
        let refs: Vec<&(i64, &str)> = items.iter().collect();

        let kept = last_of_each(refs, |item| item.0);

        assert_eq!(kept, vec![&(2, "b"), &(1, "c")]);
    }
}
