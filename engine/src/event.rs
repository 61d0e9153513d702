//! Events: what happened to a conversation, numbered and ready to announce.
//!
//! Every event carries its conversation's sequence number (`seq`, gapless per conversation) and
//! its Chatwoot-shaped payload. Events are stored in the same commit as the change they
//! describe, so an event is announced only once the change is durable, and a client that lost
//! its connection can be brought up to date from storage.

use crate::{AccountId, ConversationId, InboxId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of event, named as Chatwoot names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A conversation was started.
    ConversationCreated,
    /// A conversation's status changed.
    ConversationStatusChanged,
    /// Some other attribute of a conversation changed.
    ConversationUpdated,
    /// A conversation's assignee changed.
    AssigneeChanged,
    /// A message was added.
    MessageCreated,
    /// A message changed (delivery status, source id, content).
    MessageUpdated,
}

impl EventKind {
    /// The realtime (`/cable`) name, such as `message.created`.
    pub fn realtime_name(self) -> &'static str {
        match self {
            EventKind::ConversationCreated => "conversation.created",
            EventKind::ConversationStatusChanged => "conversation.status_changed",
            EventKind::ConversationUpdated => "conversation.updated",
            EventKind::AssigneeChanged => "assignee.changed",
            EventKind::MessageCreated => "message.created",
            EventKind::MessageUpdated => "message.updated",
        }
    }

    /// The webhook name, such as `message_created`; `None` for events Chatwoot does not send
    /// to webhooks.
    pub fn webhook_name(self) -> Option<&'static str> {
        match self {
            EventKind::ConversationCreated => Some("conversation_created"),
            EventKind::ConversationStatusChanged => Some("conversation_status_changed"),
            EventKind::ConversationUpdated => Some("conversation_updated"),
            EventKind::AssigneeChanged => None,
            EventKind::MessageCreated => Some("message_created"),
            EventKind::MessageUpdated => Some("message_updated"),
        }
    }

    /// Reads a realtime name back (as storage keeps it).
    pub fn from_realtime_name(name: &str) -> Option<Self> {
        [
            EventKind::ConversationCreated,
            EventKind::ConversationStatusChanged,
            EventKind::ConversationUpdated,
            EventKind::AssigneeChanged,
            EventKind::MessageCreated,
            EventKind::MessageUpdated,
        ]
        .into_iter()
        .find(|kind| kind.realtime_name() == name)
    }
}

/// One event of one conversation.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The account, which decides who may see it.
    pub account_id: AccountId,
    /// The inbox, which decides which agents see it.
    pub inbox_id: InboxId,
    /// The customer's identity on the inbox (contact inbox row id): the contact-side
    /// subscription that may see the event, unless it is private.
    pub contact_inbox_id: i64,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// The conversation's event sequence number.
    pub seq: i64,
    /// What happened.
    pub kind: EventKind,
    /// Whether only agents may see it (a private note); contacts never receive these.
    pub private: bool,
    /// When it happened.
    pub at: Timestamp,
    /// The Chatwoot-shaped payload (`data` of the `/cable` frame).
    pub data: Value,
}
