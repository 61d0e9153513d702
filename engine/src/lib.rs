//! The Switchyard domain: identifiers, the data model, the events a conversation emits, the
//! conversation state machine and the assignment policy.
//!
//! This crate owns the rules and performs no I/O: no sockets, no files, no clocks it reads by
//! itself (callers pass the time in). Everything here can be tested as plain functions, and the
//! actor, storage and gateway crates build on it.

pub mod assignment;
pub mod channel;
pub mod contact;
pub mod conversation;
pub mod event;
pub mod ids;
pub mod inbound;
pub mod message;
pub mod push;
pub mod secret;
pub mod time;
pub mod user;

pub use ids::{AccountId, ContactId, ConversationId, InboxId, MessageId, UserId};
pub use time::Timestamp;
