//! How the model maps onto table rows: the column lists, and the functions that read a row
//! into a model type or turn a model value into statement parameters.
//!
//! Column lists and the `*_values` functions must agree in order; each pair sits together.

use super::sql::{Row, Value, params};
use crate::StorageError;
use crate::records::{Account, AccountUser, User};
use switchyard_engine::channel::{Channel, Inbox};
use switchyard_engine::contact::{Contact, ContactInbox};
use switchyard_engine::conversation::{Conversation, ConversationStatus};
use switchyard_engine::event::{Event, EventKind};
use switchyard_engine::message::{ContentType, Message, MessageStatus, MessageType, Sender};
use switchyard_engine::secret::Secret;
use switchyard_engine::user::Role;
use switchyard_engine::{
    AccountId, ContactId, ConversationId, InboxId, MessageId, Timestamp, UserId,
};

/// The columns of `accounts` that [`account`] reads.
pub(crate) const ACCOUNT_COLUMNS: &str = "id, name, locale, status, created_at";

/// Reads an account.
pub(crate) fn account(row: &Row) -> Result<Account, StorageError> {
    let cells = row.reader("accounts");
    Ok(Account {
        id: AccountId(cells.i64("id")?),
        name: cells.text("name")?,
        locale: cells.text("locale")?,
        status: cells.text("status")?,
        created_at: Timestamp(cells.i64("created_at")?),
    })
}

/// The columns of `users` that [`user`] reads (never the password hash).
pub(crate) const USER_COLUMNS: &str =
    "id, name, display_name, email, access_token, pubsub_token, created_at";

/// Reads a user.
pub(crate) fn user(row: &Row) -> Result<User, StorageError> {
    let cells = row.reader("users");
    Ok(User {
        id: UserId(cells.i64("id")?),
        name: cells.text("name")?,
        display_name: cells.opt_text("display_name")?,
        email: cells.text("email")?,
        access_token: Secret::new(cells.text("access_token")?),
        pubsub_token: cells.text("pubsub_token")?,
        created_at: Timestamp(cells.i64("created_at")?),
    })
}

/// Reads a role name.
pub(crate) fn role(row: &Row) -> Result<Role, StorageError> {
    let cells = row.reader("account_users");
    let name = cells.text("role")?;
    Role::parse(&name).ok_or_else(|| cells.corrupt(format!("unknown role `{name}`")))
}

/// Reads a membership (`account_id, user_id, role`).
pub(crate) fn account_user(row: &Row) -> Result<AccountUser, StorageError> {
    let cells = row.reader("account_users");
    Ok(AccountUser {
        account_id: AccountId(cells.i64("account_id")?),
        user_id: UserId(cells.i64("user_id")?),
        role: role(row)?,
    })
}

/// The columns of `inboxes` that [`inbox`] reads.
pub(crate) const INBOX_COLUMNS: &str =
    "id, account_id, name, enable_auto_assignment, lock_to_single_conversation, channel_config";

/// Reads an inbox.
pub(crate) fn inbox(row: &Row) -> Result<Inbox, StorageError> {
    let cells = row.reader("inboxes");
    Ok(Inbox {
        id: InboxId(cells.i64("id")?),
        account_id: AccountId(cells.i64("account_id")?),
        name: cells.text("name")?,
        enable_auto_assignment: cells.bool("enable_auto_assignment")?,
        lock_to_single_conversation: cells.bool("lock_to_single_conversation")?,
        channel: cells.json::<Channel>("channel_config")?,
    })
}

/// What an inbox's channel is found by: the API identifier or the WhatsApp number's digits.
pub(crate) fn channel_key(channel: &Channel) -> String {
    match channel {
        Channel::Api(api) => api.identifier.clone(),
        Channel::Whatsapp(whatsapp) => {
            switchyard_engine::channel::phone_digits(&whatsapp.phone_number)
        }
    }
}

/// The provider's own id for a channel's connection, unique among inboxes of that channel
/// type: WhatsApp's `phone_number_id`. The API channel has none.
pub(crate) fn provider_key(channel: &Channel) -> Option<String> {
    match channel {
        Channel::Api(_) => None,
        Channel::Whatsapp(whatsapp) => Some(whatsapp.phone_number_id.clone()),
    }
}

/// The columns of `contacts` that [`contact`] reads.
pub(crate) const CONTACT_COLUMNS: &str = "id, account_id, name, email, phone_number, identifier, \
     additional_attributes, custom_attributes, created_at";

/// A contact joined with one of its contact inboxes (`c` and `ci`), as
/// [`contact_with_inbox`] reads it.
pub(crate) const CONTACT_WITH_INBOX_COLUMNS: &str = "c.id, c.account_id, c.name, c.email, \
     c.phone_number, c.identifier, c.additional_attributes, c.custom_attributes, c.created_at, \
     ci.id AS contact_inbox_id, ci.inbox_id, ci.source_id, ci.pubsub_token";

/// Reads a contact.
pub(crate) fn contact(row: &Row) -> Result<Contact, StorageError> {
    let cells = row.reader("contacts");
    Ok(Contact {
        id: ContactId(cells.i64("id")?),
        account_id: AccountId(cells.i64("account_id")?),
        name: cells.text("name")?,
        email: cells.opt_text("email")?,
        phone_number: cells.opt_text("phone_number")?,
        identifier: cells.opt_text("identifier")?,
        additional_attributes: cells.json("additional_attributes")?,
        custom_attributes: cells.json("custom_attributes")?,
        created_at: Timestamp(cells.i64("created_at")?),
    })
}

/// Reads a contact and its contact inbox from a joined row.
pub(crate) fn contact_with_inbox(row: &Row) -> Result<(Contact, ContactInbox), StorageError> {
    let contact = contact(row)?;
    let cells = row.reader("contact_inboxes");
    let contact_inbox = ContactInbox {
        id: cells.i64("contact_inbox_id")?,
        contact_id: contact.id,
        inbox_id: InboxId(cells.i64("inbox_id")?),
        source_id: cells.text("source_id")?,
        pubsub_token: cells.text("pubsub_token")?,
    };
    Ok((contact, contact_inbox))
}

/// The columns of `conversations` that [`conversation`] reads.
pub(crate) const CONVERSATION_COLUMNS: &str = "id, account_id, inbox_id, display_id, uuid, \
     contact_id, contact_inbox_id, status, assignee_id, team_id, priority, \
     additional_attributes, custom_attributes, unread_count, waiting_since, \
     first_reply_created_at, agent_last_seen_at, contact_last_seen_at, last_activity_at, \
     created_at, updated_at, last_event_seq";

/// Reads a conversation.
pub(crate) fn conversation(row: &Row) -> Result<Conversation, StorageError> {
    let cells = row.reader("conversations");
    let status = cells.i64("status")?;
    Ok(Conversation {
        id: ConversationId(cells.i64("id")?),
        account_id: AccountId(cells.i64("account_id")?),
        inbox_id: InboxId(cells.i64("inbox_id")?),
        display_id: cells.i64("display_id")?,
        uuid: cells.text("uuid")?,
        contact_id: ContactId(cells.i64("contact_id")?),
        contact_inbox_id: cells.i64("contact_inbox_id")?,
        status: ConversationStatus::from_code(status)
            .ok_or_else(|| cells.corrupt(format!("unknown status {status}")))?,
        assignee_id: cells.opt_i64("assignee_id")?.map(UserId),
        team_id: cells.opt_i64("team_id")?,
        priority: cells.opt_i64("priority")?,
        additional_attributes: cells.json("additional_attributes")?,
        custom_attributes: cells.json("custom_attributes")?,
        unread_count: cells.i64("unread_count")?,
        waiting_since: cells.opt_i64("waiting_since")?.map(Timestamp),
        first_reply_created_at: cells.opt_i64("first_reply_created_at")?.map(Timestamp),
        agent_last_seen_at: cells.opt_i64("agent_last_seen_at")?.map(Timestamp),
        contact_last_seen_at: cells.opt_i64("contact_last_seen_at")?.map(Timestamp),
        last_activity_at: Timestamp(cells.i64("last_activity_at")?),
        created_at: Timestamp(cells.i64("created_at")?),
        updated_at: Timestamp(cells.i64("updated_at")?),
        last_event_seq: cells.i64("last_event_seq")?,
    })
}

/// The statement that stores a conversation's mutable state ([`conversation_state_values`]).
pub(crate) const SAVE_CONVERSATION: &str = "UPDATE conversations SET status = $2, \
     assignee_id = $3, team_id = $4, priority = $5, additional_attributes = $6, \
     custom_attributes = $7, unread_count = $8, waiting_since = $9, \
     first_reply_created_at = $10, agent_last_seen_at = $11, contact_last_seen_at = $12, \
     last_activity_at = $13, updated_at = $14, last_event_seq = $15 WHERE id = $1";

/// The parameters of [`SAVE_CONVERSATION`].
pub(crate) fn conversation_state_values(conversation: &Conversation) -> Vec<Value> {
    params![
        conversation.id.0,
        conversation.status.code(),
        conversation.assignee_id.map(|user| user.0),
        conversation.team_id,
        conversation.priority,
        conversation.additional_attributes.to_string(),
        conversation.custom_attributes.to_string(),
        conversation.unread_count,
        conversation.waiting_since.map(|at| at.0),
        conversation.first_reply_created_at.map(|at| at.0),
        conversation.agent_last_seen_at.map(|at| at.0),
        conversation.contact_last_seen_at.map(|at| at.0),
        conversation.last_activity_at.0,
        conversation.updated_at.0,
        conversation.last_event_seq,
    ]
}

/// The columns of `messages`, in the order of [`message_values`] and as [`message`] reads.
pub(crate) const MESSAGE_COLUMNS: &str = "id, account_id, inbox_id, conversation_id, \
     message_type, content_type, content, content_attributes, private, status, source_id, \
     sender_type, sender_id, echo_id, attachments, created_at, updated_at";

/// How many columns [`MESSAGE_COLUMNS`] names.
pub(crate) const MESSAGE_COLUMN_COUNT: usize = 17;

/// A message's row, in [`MESSAGE_COLUMNS`] order.
pub(crate) fn message_values(message: &Message) -> Result<Vec<Value>, StorageError> {
    let attachments =
        serde_json::to_string(&message.attachments).map_err(|error| StorageError::Corrupt {
            table: "messages",
            reason: format!("attachments: {error}"),
        })?;
    let (sender_type, sender_id) = sender_columns(message.sender);
    Ok(params![
        message.id.0,
        message.account_id.0,
        message.inbox_id.0,
        message.conversation_id.0,
        message.message_type.code(),
        message.content_type.code(),
        message.content.clone(),
        message.content_attributes.to_string(),
        message.private,
        message.status.code(),
        message.source_id.clone(),
        sender_type,
        sender_id,
        message.echo_id.clone(),
        attachments,
        message.created_at.0,
        message.updated_at.0,
    ])
}

/// The statement that stores a message's changeable fields ([`message_update_values`]).
pub(crate) const UPDATE_MESSAGE: &str = "UPDATE messages SET status = $2, source_id = $3, \
     content = $4, content_attributes = $5, updated_at = $6 WHERE id = $1";

/// The parameters of [`UPDATE_MESSAGE`].
pub(crate) fn message_update_values(message: &Message) -> Vec<Value> {
    params![
        message.id.0,
        message.status.code(),
        message.source_id.clone(),
        message.content.clone(),
        message.content_attributes.to_string(),
        message.updated_at.0,
    ]
}

fn sender_columns(sender: Sender) -> (Option<&'static str>, Option<i64>) {
    match sender {
        Sender::Contact(contact) => (Some("Contact"), Some(contact.0)),
        Sender::User(user) => (Some("User"), Some(user.0)),
        Sender::System => (None, None),
    }
}

/// Reads a message.
pub(crate) fn message(row: &Row) -> Result<Message, StorageError> {
    let cells = row.reader("messages");
    let message_type = cells.i64("message_type")?;
    let content_type = cells.i64("content_type")?;
    let status = cells.i64("status")?;
    Ok(Message {
        id: MessageId(cells.i64("id")?),
        account_id: AccountId(cells.i64("account_id")?),
        inbox_id: InboxId(cells.i64("inbox_id")?),
        conversation_id: ConversationId(cells.i64("conversation_id")?),
        message_type: MessageType::from_code(message_type)
            .ok_or_else(|| cells.corrupt(format!("unknown message_type {message_type}")))?,
        content_type: ContentType::from_code(content_type)
            .ok_or_else(|| cells.corrupt(format!("unknown content_type {content_type}")))?,
        content: cells.opt_text("content")?,
        content_attributes: cells.json("content_attributes")?,
        private: cells.bool("private")?,
        status: MessageStatus::from_code(status)
            .ok_or_else(|| cells.corrupt(format!("unknown status {status}")))?,
        source_id: cells.opt_text("source_id")?,
        sender: sender(row)?,
        echo_id: cells.opt_text("echo_id")?,
        attachments: cells.json("attachments")?,
        created_at: Timestamp(cells.i64("created_at")?),
        updated_at: Timestamp(cells.i64("updated_at")?),
    })
}

fn sender(row: &Row) -> Result<Sender, StorageError> {
    let cells = row.reader("messages");
    let kind = cells.opt_text("sender_type")?;
    let id = cells.opt_i64("sender_id")?;
    match (kind.as_deref(), id) {
        (Some("Contact"), Some(id)) => Ok(Sender::Contact(ContactId(id))),
        (Some("User"), Some(id)) => Ok(Sender::User(UserId(id))),
        (None, None) => Ok(Sender::System),
        (kind, id) => Err(cells.corrupt(format!("unknown sender {kind:?} {id:?}"))),
    }
}

/// The columns of `events`, in the order of [`event_values`] and as [`event`] reads.
pub(crate) const EVENT_COLUMNS: &str =
    "conversation_id, seq, account_id, inbox_id, contact_inbox_id, kind, private, at, data";

/// How many columns [`EVENT_COLUMNS`] names.
pub(crate) const EVENT_COLUMN_COUNT: usize = 9;

/// An event's row, in [`EVENT_COLUMNS`] order.
pub(crate) fn event_values(event: &Event) -> Vec<Value> {
    params![
        event.conversation_id.0,
        event.seq,
        event.account_id.0,
        event.inbox_id.0,
        event.contact_inbox_id,
        event.kind.realtime_name(),
        event.private,
        event.at.0,
        event.data.to_string(),
    ]
}

/// Reads an event.
pub(crate) fn event(row: &Row) -> Result<Event, StorageError> {
    let cells = row.reader("events");
    let kind = cells.text("kind")?;
    Ok(Event {
        account_id: AccountId(cells.i64("account_id")?),
        inbox_id: InboxId(cells.i64("inbox_id")?),
        contact_inbox_id: cells.i64("contact_inbox_id")?,
        conversation_id: ConversationId(cells.i64("conversation_id")?),
        seq: cells.i64("seq")?,
        kind: EventKind::from_realtime_name(&kind)
            .ok_or_else(|| cells.corrupt(format!("unknown kind `{kind}`")))?,
        private: cells.bool("private")?,
        at: Timestamp(cells.i64("at")?),
        data: cells.json("data")?,
    })
}

/// Reads every row with `read`.
pub(crate) fn all<T>(
    rows: &[Row],
    read: impl Fn(&Row) -> Result<T, StorageError>,
) -> Result<Vec<T>, StorageError> {
    rows.iter().map(read).collect()
}

/// Reads the row, if there is one, with `read`.
pub(crate) fn maybe<T>(
    row: Option<Row>,
    read: impl Fn(&Row) -> Result<T, StorageError>,
) -> Result<Option<T>, StorageError> {
    row.as_ref().map(read).transpose()
}
