//! Chatwoot's JSON shapes for messages, conversations, contacts and agents.
//!
//! These are the payloads of realtime events (`push_event_data` / `push_data` in Chatwoot) and
//! the building blocks of the REST responses. They live in the engine, next to the model, so
//! that an event can be rendered once, stored, and replayed byte for byte.

use crate::Timestamp;
use crate::channel::ChannelKind;
use crate::contact::{Contact, ContactInbox};
use crate::conversation::Conversation;
use crate::message::{Attachment, Message, Sender};
use crate::user::UserSummary;
use serde_json::{Map, Value, json};

/// A contact as events show it.
pub fn contact(contact: &Contact) -> Value {
    json!({
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone_number": contact.phone_number,
        "identifier": contact.identifier,
        "thumbnail": "",
        "additional_attributes": object_or_empty(&contact.additional_attributes),
        "custom_attributes": object_or_empty(&contact.custom_attributes),
        "blocked": false,
        "type": "contact",
    })
}

/// An agent as events show it.
pub fn user(user: &UserSummary, availability: &str) -> Value {
    json!({
        "id": user.id,
        "name": user.name,
        "available_name": user.display_name.as_deref().unwrap_or(&user.name),
        "avatar_url": user.avatar_url,
        "thumbnail": user.avatar_url,
        "availability_status": availability,
        "type": "user",
    })
}

/// What a message's payload needs from its conversation.
#[derive(Clone, Copy, Debug)]
pub struct MessageContext<'a> {
    /// The conversation the message belongs to.
    pub conversation: &'a Conversation,
    /// The customer's identity on the inbox.
    pub contact_inbox: &'a ContactInbox,
    /// The customer, when the customer sent the message.
    pub contact: &'a Contact,
    /// The agent, when an agent sent the message.
    pub agent: Option<&'a UserSummary>,
}

/// A message as events and the conversation's `messages[]` show it.
pub fn message(message: &Message, context: MessageContext<'_>) -> Value {
    let conversation = context.conversation;
    let mut data = json!({
        "id": message.id,
        "content": message.content,
        "account_id": message.account_id,
        "inbox_id": message.inbox_id,
        "conversation_id": conversation.display_id,
        "message_type": message.message_type.code(),
        "created_at": message.created_at.unix_seconds(),
        "updated_at": iso8601(message.updated_at),
        "private": message.private,
        "status": message.status.as_str(),
        "source_id": message.source_id,
        "content_type": message.content_type.as_str(),
        "content_attributes": object_or_empty(&message.content_attributes),
        "sender_type": sender_type(message.sender),
        "sender_id": sender_id(message.sender),
        "external_source_ids": {},
        "additional_attributes": {},
        "processed_message_content": message.content,
        "sentiment": {},
        "conversation": {
            "assignee_id": conversation.assignee_id,
            "unread_count": conversation.unread_count,
            "last_activity_at": conversation.last_activity_at.unix_seconds(),
            "contact_inbox": { "source_id": context.contact_inbox.source_id },
        },
    });
    let fields = data
        .as_object_mut()
        .expect("a json! object literal is an object");
    if let Some(echo_id) = &message.echo_id {
        fields.insert("echo_id".into(), json!(echo_id));
    }
    if !message.attachments.is_empty() {
        fields.insert("attachments".into(), attachments(message));
    }
    if let Some(sender) = sender(message.sender, context) {
        fields.insert("sender".into(), sender);
    }
    data
}

/// A message's attachments, numbered by position (attachments have no ids of their own).
pub fn attachments(message: &Message) -> Value {
    message
        .attachments
        .iter()
        .enumerate()
        .map(|(index, attachment)| attachment_json(message, index, attachment))
        .collect()
}

fn attachment_json(message: &Message, index: usize, attachment: &Attachment) -> Value {
    let extension = attachment
        .file_name
        .as_deref()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, extension)| extension.to_owned());
    json!({
        "id": message.id.0 * 100 + index as i64,
        "message_id": message.id,
        "file_type": attachment.file_type.as_str(),
        "account_id": message.account_id,
        "extension": extension,
        "data_url": attachment.data_url.clone().unwrap_or_default(),
        "thumb_url": "",
        "file_size": 0,
        "width": null,
        "height": null,
        "coordinates_lat": attachment.coordinates_lat,
        "coordinates_long": attachment.coordinates_long,
        "fallback_title": attachment.fallback_title,
        "meta": object_or_empty(&attachment.meta),
        "provider_media_id": attachment.provider_media_id,
        "content_type": attachment.content_type,
        "file_name": attachment.file_name,
    })
}

fn sender(sender: Sender, context: MessageContext<'_>) -> Option<Value> {
    match sender {
        Sender::Contact(_) => Some(contact(context.contact)),
        Sender::User(_) => context.agent.map(|agent| user(agent, "online")),
        Sender::System => None,
    }
}

fn sender_type(sender: Sender) -> Option<&'static str> {
    match sender {
        Sender::Contact(_) => Some("Contact"),
        Sender::User(_) => Some("User"),
        Sender::System => None,
    }
}

fn sender_id(sender: Sender) -> Option<i64> {
    match sender {
        Sender::Contact(id) => Some(id.0),
        Sender::User(id) => Some(id.0),
        Sender::System => None,
    }
}

/// What a conversation's payload needs besides the conversation itself.
#[derive(Clone, Copy, Debug)]
pub struct ConversationContext<'a> {
    /// The customer.
    pub contact: &'a Contact,
    /// The customer's identity on the inbox.
    pub contact_inbox: &'a ContactInbox,
    /// The inbox's channel.
    pub channel: ChannelKind,
    /// The assigned agent, if any.
    pub assignee: Option<&'a UserSummary>,
    /// The last message the customer can see, already rendered with [`message`].
    pub last_message: Option<&'a Value>,
    /// The conversation's labels.
    pub labels: &'a [String],
}

/// A conversation as events, webhooks and the REST listing show it (`push_data`).
pub fn conversation(conversation: &Conversation, context: ConversationContext<'_>) -> Value {
    let meta = json!({
        "sender": contact(context.contact),
        "channel": context.channel.chatwoot_type(),
        "assignee": context.assignee.map(|agent| user(agent, "online")),
        "team": null,
        "hmac_verified": false,
    });
    let contact_inbox = json!({
        "id": context.contact_inbox.id,
        "contact_id": context.contact_inbox.contact_id,
        "inbox_id": context.contact_inbox.inbox_id,
        "source_id": context.contact_inbox.source_id,
        "hmac_verified": false,
        "pubsub_token": context.contact_inbox.pubsub_token,
    });
    json!({
        "id": conversation.display_id,
        "account_id": conversation.account_id,
        "uuid": conversation.uuid,
        "inbox_id": conversation.inbox_id,
        "status": conversation.status.as_str(),
        "can_reply": true,
        "channel": context.channel.chatwoot_type(),
        "contact_inbox": contact_inbox,
        "messages": context.last_message.map(|last| vec![last.clone()]).unwrap_or_default(),
        "labels": context.labels,
        "meta": meta,
        "additional_attributes": object_or_empty(&conversation.additional_attributes),
        "custom_attributes": object_or_empty(&conversation.custom_attributes),
        "snoozed_until": null,
        "unread_count": conversation.unread_count,
        "first_reply_created_at": conversation.first_reply_created_at.map(Timestamp::unix_seconds),
        "priority": conversation.priority.map(priority_name),
        "waiting_since": conversation.waiting_since.map(Timestamp::unix_seconds).unwrap_or(0),
        "agent_last_seen_at": conversation.agent_last_seen_at.map(Timestamp::unix_seconds).unwrap_or(0),
        "contact_last_seen_at": conversation.contact_last_seen_at.map(Timestamp::unix_seconds).unwrap_or(0),
        "assignee_last_seen_at": 0,
        "last_activity_at": conversation.last_activity_at.unix_seconds(),
        "timestamp": conversation.last_activity_at.unix_seconds(),
        "created_at": conversation.created_at.unix_seconds(),
        "updated_at": conversation.updated_at.unix_seconds_f64(),
        "muted": false,
        "sla_policy_id": null,
    })
}

/// Chatwoot's priority names by code.
pub fn priority_name(code: i64) -> &'static str {
    match code {
        0 => "low",
        1 => "medium",
        2 => "high",
        _ => "urgent",
    }
}

/// An RFC 3339 timestamp in UTC with millisecond precision, as Rails renders times.
pub fn iso8601(at: Timestamp) -> String {
    match chrono::DateTime::from_timestamp_micros(at.0) {
        Some(time) => time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => String::new(),
    }
}

fn object_or_empty(value: &Value) -> Value {
    match value {
        Value::Object(_) => value.clone(),
        _ => Value::Object(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_never_sees_a_delivery_error() {
        let message = json!({ "id": 1, "content_attributes": { "external_error": "http://crm/x", "in_reply_to": 5 } });
        let conversation = json!({ "id": 2, "messages": [message.clone()] });

        let seen = [
            for_contact(&message),
            for_contact(&conversation)["messages"][0].clone(),
        ];

        for payload in seen {
            assert_eq!(payload["content_attributes"], json!({ "in_reply_to": 5 }));
        }
    }

    #[test]
    fn timestamps_render_as_rails_does() {
        assert_eq!(iso8601(Timestamp(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601(Timestamp(1_697_043_223_250_000)),
            "2023-10-11T16:53:43.250Z"
        );
    }

    #[test]
    fn a_conversation_change_names_its_event_and_what_changed() {
        let conversation = json!({ "id": 7, "status": "resolved" });
        let changed = changed_attribute("status", json!("open"), json!("resolved"));

        let payload =
            webhook_conversation("conversation_status_changed", conversation, Some(changed));

        assert_eq!(
            payload,
            json!({
                "id": 7,
                "status": "resolved",
                "event": "conversation_status_changed",
                "changed_attributes": [
                    { "status": { "previous_value": "open", "current_value": "resolved" } }
                ],
            })
        );
    }
}

/// The account and inbox names a webhook payload carries.
#[derive(Clone, Debug)]
pub struct WebhookContext<'a> {
    /// The account's name.
    pub account_name: &'a str,
    /// The inbox's name.
    pub inbox_name: &'a str,
    /// The conversation, already rendered with [`conversation`].
    pub conversation: &'a Value,
    /// The sender, already rendered as Chatwoot's webhook shows senders.
    pub sender: Value,
}

/// A message as account and API-channel webhooks show it (`message_created`). Unlike the
/// realtime payload, `message_type` is a name and `created_at` an RFC 3339 time.
pub fn webhook_message(event: &str, message: &Message, context: WebhookContext<'_>) -> Value {
    let mut data = json!({
        "event": event,
        "id": message.id,
        "content": message.content,
        "content_type": message.content_type.as_str(),
        "content_attributes": object_or_empty(&message.content_attributes),
        "message_type": message.message_type.as_str(),
        "created_at": iso8601(message.created_at),
        "private": message.private,
        "source_id": message.source_id,
        "additional_attributes": {},
        "sender": context.sender,
        "conversation": context.conversation,
        "account": { "id": message.account_id, "name": context.account_name },
        "inbox": { "id": message.inbox_id, "name": context.inbox_name },
    });
    if let (false, Some(fields)) = (message.attachments.is_empty(), data.as_object_mut()) {
        fields.insert("attachments".into(), attachments(message));
    }
    data
}

/// An agent as webhooks show a message's sender.
pub fn webhook_user(user: &UserSummary) -> Value {
    json!({ "id": user.id, "name": user.name, "email": user.email, "type": "user" })
}

/// A contact as webhooks show a message's sender: the realtime shape plus the `avatar`
/// field Chatwoot's webhook data names.
pub fn webhook_contact(customer: &Contact) -> Value {
    let mut data = contact(customer);
    if let Some(fields) = data.as_object_mut() {
        fields.insert("avatar".into(), json!(""));
    }
    data
}

/// A conversation event as webhooks show it (`conversation_created`,
/// `conversation_status_changed`, `conversation_updated`): the conversation, already rendered
/// with [`conversation`], plus the event's name and, for changes, what changed (built with
/// [`changed_attribute`]).
pub fn webhook_conversation(
    event: &str,
    conversation: Value,
    changed_attributes: Option<Value>,
) -> Value {
    let mut data = conversation;
    if let Some(fields) = data.as_object_mut() {
        fields.insert("event".into(), json!(event));
        if let Some(changed) = changed_attributes {
            fields.insert("changed_attributes".into(), changed);
        }
    }
    data
}

/// One changed attribute in Chatwoot's webhook form:
/// `[{"<name>": {"previous_value": …, "current_value": …}}]`.
pub fn changed_attribute(name: &str, previous: Value, current: Value) -> Value {
    json!([{ name: { "previous_value": previous, "current_value": current } }])
}

/// Attributes of a message that only the contact center may see (a delivery error can name
/// an integrator's system).
const AGENT_ONLY_ATTRIBUTES: [&str; 1] = ["external_error"];

/// A message or conversation payload as a customer may see it: agent-only message attributes
/// removed, from the message itself and from a conversation's `messages`.
pub fn for_contact(data: &Value) -> Value {
    let mut data = data.clone();
    strip_agent_only(&mut data);
    if let Some(messages) = data.get_mut("messages").and_then(Value::as_array_mut) {
        messages.iter_mut().for_each(strip_agent_only);
    }
    data
}

fn strip_agent_only(message: &mut Value) {
    if let Some(attributes) = message
        .get_mut("content_attributes")
        .and_then(Value::as_object_mut)
    {
        for key in AGENT_ONLY_ATTRIBUTES {
            attributes.remove(key);
        }
    }
}
