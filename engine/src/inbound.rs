//! What a channel hands the engine: customer messages and delivery reports, already mapped
//! from the provider's format into the engine's terms.

use crate::Timestamp;
use crate::contact::ContactProfile;
use crate::message::{Attachment, ContentType, MessageStatus};
use serde_json::Value;

/// A customer message as a gateway parsed it, before it has a conversation or an id.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundMessage {
    /// Who sent it.
    pub contact: ContactProfile,
    /// The provider's message id; a second message with the same id on the same inbox is a
    /// retry and is not stored again. `None` when the channel has no ids (then no dedupe).
    pub source_id: Option<String>,
    /// The text, if any.
    pub content: Option<String>,
    /// How to read the content.
    pub content_type: ContentType,
    /// Structured extras (`in_reply_to_external_id`, `is_unsupported`, a reaction, ...).
    pub content_attributes: Value,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// When the provider says it was sent; `None` to use the arrival time.
    pub sent_at: Option<Timestamp>,
    /// The client's own id for an optimistic send (Client API `echo_id`).
    pub echo_id: Option<String>,
}

/// A provider's report on one of our outgoing messages.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusReport {
    /// The provider's id of the message (our message's `source_id`).
    pub source_id: String,
    /// The new status.
    pub status: MessageStatus,
    /// The provider's error text, for `failed`.
    pub error: Option<String>,
    /// When the provider says it happened.
    pub at: Option<Timestamp>,
}
