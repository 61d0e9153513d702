//! Persistence for Switchyard: the storage interface, its SQLite and PostgreSQL backends,
//! migrations, and the write-behind writers that commit in groups.
//!
//! Reads go straight to the database. Writes on the hot path (messages, conversation state,
//! events) go through [`writer::WriterPool`], which batches what many conversations hand it
//! into one transaction and answers each caller only once that transaction is durable.
//! Provisioning writes (accounts, users, inboxes) and the few writes that must allocate a
//! number in the database (a conversation's display id) are made directly.

pub mod error;
pub mod ids;
pub mod records;
pub mod store;
pub mod writer;

pub use error::StorageError;
pub use ids::{IdAllocator, IdSequence};
pub use records::*;
pub use store::{Store, StoreConfig};
pub use writer::{EventSink, WriteRequest, WriterPool};
