//! Id allocation in blocks.
//!
//! Messages need their id before they are stored: the conversation actor puts the id in the
//! event it announces and the writer commits both together. Each node reserves a block of ids
//! from the database in one statement and hands them out from memory, so ids stay unique
//! across nodes and across restarts while costing one round trip per block.

use crate::{StorageError, Store};
use std::ops::Range;
use tokio::sync::Mutex;

/// The named id sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdSequence {
    /// Message ids.
    Message,
}

impl IdSequence {
    /// The sequence's name in the `id_blocks` table.
    pub fn name(self) -> &'static str {
        match self {
            IdSequence::Message => "messages",
        }
    }
}

/// Hands out ids from blocks reserved in the database.
#[derive(Debug)]
pub struct IdAllocator {
    store: Store,
    sequence: IdSequence,
    block_size: i64,
    block: Mutex<Range<i64>>,
}

impl IdAllocator {
    /// An allocator that reserves `block_size` ids at a time.
    pub fn new(store: Store, sequence: IdSequence, block_size: i64) -> Self {
        IdAllocator {
            store,
            sequence,
            block_size,
            block: Mutex::new(0..0),
        }
    }

    /// The next id. Only the call that finds the block empty waits for the database; the
    /// lock is held across that wait so that two callers never reserve two blocks at once.
    pub async fn next(&self) -> Result<i64, StorageError> {
        let mut block = self.block.lock().await;
        if block.is_empty() {
            *block = self
                .store
                .reserve_ids(self.sequence, self.block_size)
                .await?;
        }
        let id = block.start;
        block.start += 1;
        Ok(id)
    }
}
