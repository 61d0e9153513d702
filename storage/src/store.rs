//! The storage interface: one [`Store`] over either backend.
//!
//! SKELETON: the method bodies below are placeholders to be replaced by the real SQLite and
//! PostgreSQL implementation; the signatures and doc comments are the contract callers rely on.

#![allow(clippy::unused_async, unused_variables)]

use crate::records::*;
use crate::{IdSequence, StorageError};
use std::ops::Range;
use switchyard_engine::channel::Inbox;
use switchyard_engine::contact::{Contact, ContactInbox, ContactProfile};
use switchyard_engine::conversation::Conversation;
use switchyard_engine::event::Event;
use switchyard_engine::message::Message;
use switchyard_engine::user::Role;
use switchyard_engine::{AccountId, ContactId, ConversationId, InboxId, MessageId, UserId};

/// Which database to open.
#[derive(Clone, Debug)]
pub enum StoreConfig {
    /// An SQLite file (created if missing), in WAL mode.
    Sqlite {
        /// The file path.
        path: std::path::PathBuf,
    },
    /// A PostgreSQL server.
    Postgres {
        /// A `postgres://` URL.
        url: String,
        /// The most connections to open.
        pool_size: u32,
    },
}

/// A handle on the database; cheap to clone, shared by every part of the node.
#[derive(Clone, Debug)]
pub struct Store {}

impl Store {
    /// Opens the database. Does not migrate: call [`Store::migrate`].
    pub async fn connect(config: &StoreConfig) -> Result<Store, StorageError> {
        unimplemented!()
    }

    /// Applies every migration not yet applied, each in its own transaction, in order.
    /// Safe to run concurrently from several nodes.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        unimplemented!()
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        unimplemented!()
    }

    /// Whether the database answers (for `/ready`).
    pub async fn ping(&self) -> Result<(), StorageError> {
        unimplemented!()
    }

    /// Reserves `count` consecutive ids of a sequence for this node.
    pub async fn reserve_ids(&self, sequence: IdSequence, count: i64) -> Result<Range<i64>, StorageError> {
        unimplemented!()
    }

    /// Commits the writes in one transaction, in order.
    pub async fn commit(&self, writes: &[&Write]) -> Result<(), StorageError> {
        unimplemented!()
    }

    /// Creates an account.
    pub async fn create_account(&self, name: &str, locale: &str) -> Result<Account, StorageError> {
        unimplemented!()
    }

    /// An account by id.
    pub async fn account(&self, id: AccountId) -> Result<Option<Account>, StorageError> {
        unimplemented!()
    }

    /// Creates a user with fresh random access and pubsub tokens. A taken e-mail is a
    /// [`StorageError::Conflict`].
    pub async fn create_user(&self, user: &NewUser) -> Result<User, StorageError> {
        unimplemented!()
    }

    /// A user by id.
    pub async fn user(&self, id: UserId) -> Result<Option<User>, StorageError> {
        unimplemented!()
    }

    /// The user owning an access token.
    pub async fn user_by_access_token(&self, token: &str) -> Result<Option<User>, StorageError> {
        unimplemented!()
    }

    /// The user owning a pubsub token.
    pub async fn user_by_pubsub_token(&self, token: &str) -> Result<Option<User>, StorageError> {
        unimplemented!()
    }

    /// Makes a user a member of an account with a role (replacing an earlier role).
    pub async fn add_account_user(&self, account: AccountId, user: UserId, role: Role) -> Result<AccountUser, StorageError> {
        unimplemented!()
    }

    /// The members of an account.
    pub async fn account_users(&self, account: AccountId) -> Result<Vec<AccountUser>, StorageError> {
        unimplemented!()
    }

    /// A user's role in an account, if a member.
    pub async fn role_of(&self, account: AccountId, user: UserId) -> Result<Option<Role>, StorageError> {
        unimplemented!()
    }

    /// The accounts a user belongs to, with the role in each.
    pub async fn accounts_of_user(&self, user: UserId) -> Result<Vec<(Account, Role)>, StorageError> {
        unimplemented!()
    }

    /// Creates an inbox. An API identifier or WhatsApp number already connected is a
    /// [`StorageError::Conflict`].
    pub async fn create_inbox(&self, inbox: &NewInbox) -> Result<Inbox, StorageError> {
        unimplemented!()
    }

    /// An inbox by id.
    pub async fn inbox(&self, id: InboxId) -> Result<Option<Inbox>, StorageError> {
        unimplemented!()
    }

    /// An account's inboxes, by id.
    pub async fn inboxes(&self, account: AccountId) -> Result<Vec<Inbox>, StorageError> {
        unimplemented!()
    }

    /// The API-channel inbox with this public identifier.
    pub async fn inbox_by_api_identifier(&self, identifier: &str) -> Result<Option<Inbox>, StorageError> {
        unimplemented!()
    }

    /// The WhatsApp inbox for this number (digits only).
    pub async fn inbox_by_whatsapp_number(&self, phone_digits: &str) -> Result<Option<Inbox>, StorageError> {
        unimplemented!()
    }

    /// Adds members to an inbox (members already there stay).
    pub async fn add_inbox_members(&self, inbox: InboxId, users: &[UserId]) -> Result<(), StorageError> {
        unimplemented!()
    }

    /// An inbox's members.
    pub async fn inbox_members(&self, inbox: InboxId) -> Result<Vec<UserId>, StorageError> {
        unimplemented!()
    }

    /// The inboxes of an account a user is a member of.
    pub async fn inboxes_of_member(&self, account: AccountId, user: UserId) -> Result<Vec<InboxId>, StorageError> {
        unimplemented!()
    }

    /// Finds the contact behind `(inbox, profile.source_id)`, or creates the contact and its
    /// contact inbox together. Safe under races: two callers with the same source id get the
    /// same contact.
    pub async fn resolve_contact(&self, account: AccountId, inbox: InboxId, profile: &ContactProfile) -> Result<(Contact, ContactInbox), StorageError> {
        unimplemented!()
    }

    /// The contact behind `(inbox, source_id)`, if any.
    pub async fn contact_inbox(&self, inbox: InboxId, source_id: &str) -> Result<Option<(Contact, ContactInbox)>, StorageError> {
        unimplemented!()
    }

    /// A contact inbox by row id, with its contact.
    pub async fn contact_inbox_by_id(&self, id: i64) -> Result<Option<(Contact, ContactInbox)>, StorageError> {
        unimplemented!()
    }

    /// A contact by id.
    pub async fn contact(&self, id: ContactId) -> Result<Option<Contact>, StorageError> {
        unimplemented!()
    }

    /// Creates a conversation, taking the account's next display id.
    pub async fn create_conversation(&self, conversation: &NewConversation) -> Result<Conversation, StorageError> {
        unimplemented!()
    }

    /// A conversation by global id.
    pub async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StorageError> {
        unimplemented!()
    }

    /// A conversation by its per-account display id.
    pub async fn conversation_by_display_id(&self, account: AccountId, display_id: i64) -> Result<Option<Conversation>, StorageError> {
        unimplemented!()
    }

    /// The most recent conversation of a contact inbox.
    pub async fn latest_conversation(&self, contact_inbox_id: i64) -> Result<Option<Conversation>, StorageError> {
        unimplemented!()
    }

    /// A contact inbox's conversations, newest first.
    pub async fn conversations_of_contact_inbox(&self, contact_inbox_id: i64) -> Result<Vec<Conversation>, StorageError> {
        unimplemented!()
    }

    /// A page of conversations with Chatwoot's counts.
    pub async fn list_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage, StorageError> {
        unimplemented!()
    }

    /// Messages of a conversation, oldest first, in `(created_at, id)` order.
    pub async fn messages(&self, conversation: ConversationId, page: MessagePage) -> Result<Vec<Message>, StorageError> {
        unimplemented!()
    }

    /// A message by id.
    pub async fn message(&self, id: MessageId) -> Result<Option<Message>, StorageError> {
        unimplemented!()
    }

    /// The message an inbox stored under a provider id.
    pub async fn message_by_source_id(&self, inbox: InboxId, source_id: &str) -> Result<Option<Message>, StorageError> {
        unimplemented!()
    }

    /// The last message the customer can see (not private, not an activity).
    pub async fn last_visible_message(&self, conversation: ConversationId) -> Result<Option<Message>, StorageError> {
        unimplemented!()
    }

    /// A conversation's events after `seq`, in order, at most `limit`.
    pub async fn events_after(&self, conversation: ConversationId, seq: i64, limit: u32) -> Result<Vec<Event>, StorageError> {
        unimplemented!()
    }
}
