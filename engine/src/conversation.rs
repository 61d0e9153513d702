//! A conversation's state and the rules that change it.
//!
//! The conversation actor is the only writer of this state; it calls these methods and then
//! persists and announces what changed. Keeping the rules here, free of I/O, lets them be
//! tested as plain functions.

use crate::message::UnknownVariant;
use crate::{AccountId, ContactId, ConversationId, InboxId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A conversation's lifecycle state. Codes are Chatwoot's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Waiting on the contact center.
    Open,
    /// Done.
    Resolved,
    /// Waiting on a bot or on a later decision.
    Pending,
    /// Put aside until a time.
    Snoozed,
}

impl ConversationStatus {
    /// The integer Chatwoot stores.
    pub fn code(self) -> i64 {
        match self {
            ConversationStatus::Open => 0,
            ConversationStatus::Resolved => 1,
            ConversationStatus::Pending => 2,
            ConversationStatus::Snoozed => 3,
        }
    }

    /// Reads the stored integer back.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(ConversationStatus::Open),
            1 => Some(ConversationStatus::Resolved),
            2 => Some(ConversationStatus::Pending),
            3 => Some(ConversationStatus::Snoozed),
            _ => None,
        }
    }

    /// The name the API shows.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Resolved => "resolved",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Snoozed => "snoozed",
        }
    }

    /// Parses the name a request carries.
    pub fn parse(text: &str) -> Result<Self, UnknownVariant> {
        match text {
            "open" => Ok(ConversationStatus::Open),
            "resolved" => Ok(ConversationStatus::Resolved),
            "pending" => Ok(ConversationStatus::Pending),
            "snoozed" => Ok(ConversationStatus::Snoozed),
            _ => Err(UnknownVariant {
                kind: "conversation status",
                value: text.to_owned(),
                expected: "open resolved pending snoozed",
            }),
        }
    }
}

/// A conversation's state, as its actor holds it and storage keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversation {
    /// The global id.
    pub id: ConversationId,
    /// The owning account.
    pub account_id: AccountId,
    /// The inbox it arrived on.
    pub inbox_id: InboxId,
    /// The per-account number the API uses in paths.
    pub display_id: i64,
    /// A random id used for e-mail threading and surveys.
    pub uuid: String,
    /// The customer.
    pub contact_id: ContactId,
    /// The customer's identity on the inbox (row id of the contact inbox).
    pub contact_inbox_id: i64,
    /// Lifecycle state.
    pub status: ConversationStatus,
    /// The agent it is assigned to.
    pub assignee_id: Option<UserId>,
    /// The team it is assigned to.
    pub team_id: Option<i64>,
    /// Priority: 0 low, 1 medium, 2 high, 3 urgent.
    pub priority: Option<i64>,
    /// Channel-specific attributes.
    pub additional_attributes: Value,
    /// Account-defined attributes.
    pub custom_attributes: Value,
    /// Customer messages not yet seen by an agent.
    pub unread_count: i64,
    /// Since when the customer has been waiting for a reply, if they are.
    pub waiting_since: Option<Timestamp>,
    /// When an agent first replied.
    pub first_reply_created_at: Option<Timestamp>,
    /// When an agent last looked at it.
    pub agent_last_seen_at: Option<Timestamp>,
    /// When the customer last looked at it.
    pub contact_last_seen_at: Option<Timestamp>,
    /// When the last message or state change happened.
    pub last_activity_at: Timestamp,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// The sequence number of the last event this conversation emitted. Events are numbered
    /// per conversation, without gaps, so a client can tell exactly what it has missed.
    pub last_event_seq: i64,
}

/// A change to a conversation's status, assignee or other fields, as a rule produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The status moved from one value to another.
    Status {
        /// Before.
        from: ConversationStatus,
        /// After.
        to: ConversationStatus,
    },
    /// The assignee changed.
    Assignee {
        /// Before.
        from: Option<UserId>,
        /// After.
        to: Option<UserId>,
    },
}

impl Conversation {
    /// Applies a customer message: it reopens a resolved or snoozed conversation, starts the
    /// wait clock and counts as unread.
    pub fn receive_incoming(&mut self, at: Timestamp) -> Option<Change> {
        self.unread_count += 1;
        self.waiting_since.get_or_insert(at);
        self.touch(at);
        match self.status {
            ConversationStatus::Resolved | ConversationStatus::Snoozed => {
                Some(self.move_to(ConversationStatus::Open, at))
            }
            ConversationStatus::Open | ConversationStatus::Pending => None,
        }
    }

    /// Applies an agent's message. A private note changes nothing the customer sees; a reply
    /// stops the wait clock and records the first reply.
    pub fn record_outgoing(&mut self, at: Timestamp, private: bool) {
        self.touch(at);
        if private {
            return;
        }
        self.first_reply_created_at.get_or_insert(at);
        self.waiting_since = None;
    }

    /// Sets the status, if it differs.
    pub fn set_status(&mut self, status: ConversationStatus, at: Timestamp) -> Option<Change> {
        if self.status == status {
            return None;
        }
        Some(self.move_to(status, at))
    }

    /// Sets the assignee, if it differs.
    pub fn assign(&mut self, assignee: Option<UserId>, at: Timestamp) -> Option<Change> {
        if self.assignee_id == assignee {
            return None;
        }
        let from = std::mem::replace(&mut self.assignee_id, assignee);
        self.touch(at);
        Some(Change::Assignee { from, to: assignee })
    }

    /// Whether this conversation should be offered to auto-assignment: open and unassigned.
    pub fn wants_assignee(&self) -> bool {
        self.status == ConversationStatus::Open && self.assignee_id.is_none()
    }

    /// Takes the next event sequence number.
    pub fn next_event_seq(&mut self) -> i64 {
        self.last_event_seq += 1;
        self.last_event_seq
    }

    fn move_to(&mut self, status: ConversationStatus, at: Timestamp) -> Change {
        let from = std::mem::replace(&mut self.status, status);
        self.touch(at);
        Change::Status { from, to: status }
    }

    fn touch(&mut self, at: Timestamp) {
        self.last_activity_at = self.last_activity_at.max(at);
        self.updated_at = self.updated_at.max(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(status: ConversationStatus) -> Conversation {
        Conversation {
            id: ConversationId(1),
            account_id: AccountId(1),
            inbox_id: InboxId(1),
            display_id: 1,
            uuid: "u".into(),
            contact_id: ContactId(1),
            contact_inbox_id: 1,
            status,
            assignee_id: None,
            team_id: None,
            priority: None,
            additional_attributes: Value::Null,
            custom_attributes: Value::Null,
            unread_count: 0,
            waiting_since: None,
            first_reply_created_at: None,
            agent_last_seen_at: None,
            contact_last_seen_at: None,
            last_activity_at: Timestamp(0),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            last_event_seq: 0,
        }
    }

    #[test]
    fn an_incoming_message_reopens_a_resolved_conversation() {
        let mut resolved = conversation(ConversationStatus::Resolved);

        let change = resolved.receive_incoming(Timestamp(5));

        assert_eq!(
            change,
            Some(Change::Status {
                from: ConversationStatus::Resolved,
                to: ConversationStatus::Open
            })
        );
        assert_eq!(resolved.unread_count, 1);
        assert_eq!(resolved.waiting_since, Some(Timestamp(5)));
    }

    #[test]
    fn a_private_note_does_not_stop_the_wait_clock() {
        let mut open = conversation(ConversationStatus::Open);
        open.receive_incoming(Timestamp(5));

        open.record_outgoing(Timestamp(6), true);
        assert_eq!(open.waiting_since, Some(Timestamp(5)));

        open.record_outgoing(Timestamp(7), false);
        assert_eq!(open.waiting_since, None);
        assert_eq!(open.first_reply_created_at, Some(Timestamp(7)));
    }

    #[test]
    fn assigning_the_same_agent_twice_is_no_change() {
        let mut open = conversation(ConversationStatus::Open);

        assert!(open.assign(Some(UserId(3)), Timestamp(1)).is_some());
        assert!(open.assign(Some(UserId(3)), Timestamp(2)).is_none());
        assert!(!open.wants_assignee());
    }
}
