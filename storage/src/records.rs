//! Rows that are storage's own business (accounts, users, memberships) and the query shapes
//! callers pass in. The conversation model itself lives in the engine.

use serde_json::Value;
use switchyard_engine::channel::Channel;
use switchyard_engine::conversation::{Conversation, ConversationStatus};
use switchyard_engine::event::Event;
use switchyard_engine::message::Message;
use switchyard_engine::secret::Secret;
use switchyard_engine::user::{Role, UserSummary};
use switchyard_engine::{
    AccountId, ContactId, ConversationId, InboxId, MessageId, Timestamp, UserId,
};

/// An account (tenant).
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    /// The account id.
    pub id: AccountId,
    /// The name.
    pub name: String,
    /// The locale, such as `en`.
    pub locale: String,
    /// `active` or `suspended`.
    pub status: String,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A user (agent or administrator).
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// The user id.
    pub id: UserId,
    /// The full name.
    pub name: String,
    /// The name shown to customers.
    pub display_name: Option<String>,
    /// The e-mail address (unique).
    pub email: String,
    /// The token for the `api_access_token` header.
    pub access_token: Secret,
    /// The token for subscribing to `/cable`.
    pub pubsub_token: String,
    /// When the user was created.
    pub created_at: Timestamp,
}

impl User {
    /// What events and listings show of the user.
    pub fn summary(&self) -> UserSummary {
        UserSummary {
            id: self.id,
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            avatar_url: String::new(),
        }
    }
}

/// What is needed to create a user.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// The full name.
    pub name: String,
    /// The name shown to customers.
    pub display_name: Option<String>,
    /// The e-mail address.
    pub email: String,
    /// An argon2 hash of the password, if the user may sign in with one.
    pub password_hash: Option<String>,
}

/// A user's membership of an account.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountUser {
    /// The account.
    pub account_id: AccountId,
    /// The user.
    pub user_id: UserId,
    /// The role.
    pub role: Role,
}

/// What is needed to create an inbox.
#[derive(Clone, Debug)]
pub struct NewInbox {
    /// The owning account.
    pub account_id: AccountId,
    /// The name agents see.
    pub name: String,
    /// Whether new conversations are assigned automatically.
    pub enable_auto_assignment: bool,
    /// Whether a returning customer's last conversation is reopened.
    pub lock_to_single_conversation: bool,
    /// The channel.
    pub channel: Channel,
}

/// What is needed to start a conversation.
#[derive(Clone, Debug)]
pub struct NewConversation {
    /// The owning account.
    pub account_id: AccountId,
    /// The inbox.
    pub inbox_id: InboxId,
    /// The customer.
    pub contact_id: ContactId,
    /// The customer's identity on the inbox.
    pub contact_inbox_id: i64,
    /// The initial status.
    pub status: ConversationStatus,
    /// Channel-specific attributes.
    pub additional_attributes: Value,
    /// Account-defined attributes.
    pub custom_attributes: Value,
    /// When it starts.
    pub at: Timestamp,
}

/// Which conversations a listing shows, by assignee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Every conversation.
    All,
    /// Assigned to the given user.
    Me(UserId),
    /// Not assigned.
    Unassigned,
    /// Assigned to anyone.
    Assigned,
}

/// A conversation listing request.
#[derive(Clone, Debug)]
pub struct ConversationQuery {
    /// The account.
    pub account_id: AccountId,
    /// The user asking (for the `mine` count).
    pub viewer: UserId,
    /// Only this status; `None` for all statuses.
    pub status: Option<ConversationStatus>,
    /// By assignee.
    pub assignee: AssigneeFilter,
    /// Only this inbox.
    pub inbox_id: Option<InboxId>,
    /// Only these inboxes (what the viewer may see); `None` for all of the account's.
    pub visible_inboxes: Option<Vec<InboxId>>,
    /// The page, from 1.
    pub page: u32,
    /// Conversations per page.
    pub per_page: u32,
}

/// A page of conversations with the counts Chatwoot shows in `meta`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationPage {
    /// The conversations, most recent activity first.
    pub conversations: Vec<Conversation>,
    /// Matching conversations assigned to the viewer.
    pub mine_count: i64,
    /// Matching conversations assigned to anyone.
    pub assigned_count: i64,
    /// Matching conversations assigned to nobody.
    pub unassigned_count: i64,
    /// All matching conversations.
    pub all_count: i64,
}

/// Which messages of a conversation to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessagePage {
    /// The latest `limit` messages.
    Latest {
        /// How many.
        limit: u32,
    },
    /// Up to `limit` messages just before the given one.
    Before {
        /// The message to page back from.
        id: MessageId,
        /// How many.
        limit: u32,
    },
    /// Up to `limit` messages just after the given one.
    After {
        /// The message to page forward from.
        id: MessageId,
        /// How many.
        limit: u32,
    },
}

/// One change handed to the write-behind writer.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// Insert a new message. A message whose `(inbox_id, source_id)` is already stored is
    /// skipped, never duplicated.
    InsertMessage(Message),
    /// Update a stored message's status, source id, content and attributes.
    UpdateMessage(Message),
    /// Store a conversation's mutable state.
    SaveConversation(Conversation),
    /// Append an event to its conversation's stream.
    AppendEvent(Event),
}

/// A key for grouping: which conversation a write belongs to (it picks the writer shard, so a
/// conversation's writes are committed in the order they were handed over).
pub type WriteKey = ConversationId;
