//! The JSON shapes the handlers answer with, written out for the OpenAPI document.
//!
//! Handlers render Chatwoot's shapes with `serde_json::json!` (see `api::present` and the
//! engine's `push` module), so nothing serializes these types: they exist only to be described.
//! When a handler's JSON changes, the shape here must change with it, field by field.

use serde_json::Value;
use utoipa::ToSchema;

/// Every error the API reports in JSON.
#[derive(ToSchema)]
#[schema(example = json!({ "error": "conversation not found" }))]
pub struct ErrorBody {
    /// What was wrong with the request, or that the server failed.
    pub error: String,
}

/// A member's role in an account.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May manage inboxes and members, and sees every inbox.
    Administrator,
    /// Sees the inboxes they are a member of.
    Agent,
}

/// Whether an agent has a live `/cable` connection.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Connected.
    Online,
    /// Not connected.
    Offline,
}

/// The kind of channel an inbox is connected to, in Chatwoot's class names.
#[derive(ToSchema)]
pub enum ChannelType {
    /// An API channel, served by the Client API.
    #[serde(rename = "Channel::Api")]
    Api,
    /// A WhatsApp Cloud number.
    #[serde(rename = "Channel::Whatsapp")]
    Whatsapp,
}

/// A conversation's status.
#[derive(ToSchema)]
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

/// Where a message is in its delivery.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Stored, and for outgoing messages handed to the provider.
    Sent,
    /// The provider reports it delivered.
    Delivered,
    /// The provider reports it read.
    Read,
    /// Delivery failed for good.
    Failed,
}

/// How a message's content is to be read.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentType {
    /// Plain text.
    Text,
    /// A one-line input prompt.
    InputText,
    /// A multi-line input prompt.
    InputTextarea,
    /// An e-mail input prompt.
    InputEmail,
    /// A choice prompt.
    InputSelect,
    /// Cards.
    Cards,
    /// A form.
    Form,
    /// A help-center article.
    Article,
    /// An inbound e-mail.
    IncomingEmail,
    /// A satisfaction survey.
    InputCsat,
    /// An integration's message.
    Integrations,
    /// A sticker.
    Sticker,
}

/// An account, as the Platform API shows it.
#[derive(ToSchema)]
pub struct Account {
    /// The account id.
    pub id: i64,
    /// The name.
    pub name: String,
    /// The locale, such as `en`.
    pub locale: String,
    /// `active` or `suspended`.
    pub status: String,
    /// Always null: custom domains are not supported.
    pub domain: Option<String>,
    /// Always null: support e-mail is not supported.
    pub support_email: Option<String>,
    /// Always empty.
    #[schema(value_type = Object)]
    pub custom_attributes: Value,
    /// When it was created, RFC 3339 in UTC.
    pub created_at: String,
}

/// A user as the Platform API shows it, with the tokens it was given.
#[derive(ToSchema)]
pub struct PlatformUser {
    /// The user id.
    pub id: i64,
    /// The full name.
    pub name: String,
    /// The name shown to customers.
    pub display_name: Option<String>,
    /// The e-mail address, in lower case.
    pub email: String,
    /// The e-mail address again, as Chatwoot's devise `uid`.
    pub uid: String,
    /// Always `email`.
    pub provider: String,
    /// The token for the `api_access_token` header.
    pub access_token: String,
    /// The token for subscribing to `/cable`.
    pub pubsub_token: String,
    /// Always true.
    pub confirmed: bool,
    /// Always empty.
    #[schema(value_type = Object)]
    pub custom_attributes: Value,
    /// When the user was created, RFC 3339 in UTC.
    pub created_at: String,
}

/// A user's membership of an account.
#[derive(ToSchema)]
pub struct AccountUser {
    /// The account id.
    pub account_id: i64,
    /// The user id.
    pub user_id: i64,
    /// The user's role there.
    pub role: Role,
}

/// The signed-in user, their tokens and their accounts.
#[derive(ToSchema)]
pub struct Profile {
    /// The user id.
    pub id: i64,
    /// The full name.
    pub name: String,
    /// The name shown to customers.
    pub display_name: Option<String>,
    /// The display name, or the name when there is none.
    pub available_name: String,
    /// The e-mail address.
    pub email: String,
    /// The e-mail address again, as Chatwoot's devise `uid`.
    pub uid: String,
    /// Always `email`.
    pub provider: String,
    /// The token for the `api_access_token` header.
    pub access_token: String,
    /// The token for subscribing to `/cable`.
    pub pubsub_token: String,
    /// The first account, or null when the user belongs to none.
    pub account_id: Option<i64>,
    /// The role in the first account.
    pub role: Option<Role>,
    /// Every account the user belongs to.
    pub accounts: Vec<ProfileAccount>,
    /// Whether the user has a live `/cable` connection.
    pub availability_status: Availability,
    /// Always true.
    pub confirmed: bool,
    /// Always empty.
    pub avatar_url: String,
    /// Always empty.
    #[schema(value_type = Object)]
    pub custom_attributes: Value,
    /// Always empty.
    #[schema(value_type = Object)]
    pub ui_settings: Value,
}

/// One of the signed-in user's accounts.
#[derive(ToSchema)]
pub struct ProfileAccount {
    /// The account id.
    pub id: i64,
    /// The account's name.
    pub name: String,
    /// The user's role there.
    pub role: Role,
    /// The account's status, `active` or `suspended`.
    pub status: String,
    /// Whether the user has a live `/cable` connection.
    pub availability: Availability,
    /// The same as `availability`.
    pub availability_status: Availability,
    /// Always true.
    pub auto_offline: bool,
}

/// An agent as account and inbox listings show it.
#[derive(ToSchema)]
pub struct Agent {
    /// The user id.
    pub id: i64,
    /// The full name.
    pub name: String,
    /// The display name, or the name when there is none.
    pub available_name: String,
    /// The name shown to customers.
    pub display_name: Option<String>,
    /// The e-mail address.
    pub email: String,
    /// The role in the account.
    pub role: Role,
    /// Always true.
    pub confirmed: bool,
    /// Whether the agent has a live `/cable` connection.
    pub availability_status: Availability,
    /// Always true.
    pub auto_offline: bool,
    /// Always empty.
    pub thumbnail: String,
    /// Always empty.
    #[schema(value_type = Object)]
    pub custom_attributes: Value,
}

/// A list of agents.
#[derive(ToSchema)]
pub struct AgentList {
    /// The agents.
    pub payload: Vec<Agent>,
}

/// An agent as messages and conversations show it.
#[derive(ToSchema)]
pub struct AgentSummary {
    /// The user id.
    pub id: i64,
    /// The full name.
    pub name: String,
    /// The display name, or the name when there is none.
    pub available_name: String,
    /// The avatar's URL; empty when there is none.
    pub avatar_url: String,
    /// The same as `avatar_url`.
    pub thumbnail: String,
    /// Whether the agent has a live `/cable` connection.
    pub availability_status: Availability,
    /// Always `user`.
    #[schema(rename = "type")]
    pub kind: String,
}

/// An inbox. Secrets (API keys, app secrets, HMAC tokens) are never shown.
#[derive(ToSchema)]
pub struct Inbox {
    /// The inbox id.
    pub id: i64,
    /// The account the inbox belongs to.
    pub account_id: i64,
    /// The name.
    pub name: String,
    /// The same as `id`: the channel has no id of its own.
    pub channel_id: i64,
    /// The kind of channel.
    pub channel_type: ChannelType,
    /// Whether new conversations are assigned to an available member.
    pub enable_auto_assignment: bool,
    /// Whether a contact keeps one conversation instead of opening new ones.
    pub lock_to_single_conversation: bool,
    /// Always false.
    pub greeting_enabled: bool,
    /// Always null.
    pub greeting_message: Option<String>,
    /// Always false.
    pub working_hours_enabled: bool,
    /// Always empty.
    pub avatar_url: String,
    /// Always true.
    pub allow_messages_after_resolved: bool,
    /// API channels: the identifier the Client API addresses the inbox by.
    pub inbox_identifier: Option<String>,
    /// API channels: where replies and events are posted; empty for none.
    pub webhook_url: Option<String>,
    /// API channels: always false.
    pub hmac_mandatory: Option<bool>,
    /// WhatsApp channels: the business number, `+` and digits.
    pub phone_number: Option<String>,
    /// WhatsApp channels: always `whatsapp_cloud`.
    pub provider: Option<String>,
    /// WhatsApp channels: the provider settings that are not secret.
    pub provider_config: Option<InboxProviderConfig>,
}

/// The settings of a WhatsApp Cloud inbox that may be shown.
#[derive(ToSchema)]
pub struct InboxProviderConfig {
    /// Meta's id for the business number.
    pub phone_number_id: String,
    /// Meta's id for the business account.
    pub business_account_id: String,
    /// The token Meta's subscription check must present.
    pub webhook_verify_token: String,
}

/// A list of inboxes.
#[derive(ToSchema)]
pub struct InboxList {
    /// The inboxes.
    pub payload: Vec<Inbox>,
}

/// A contact (a customer) as messages and conversations show it.
#[derive(ToSchema)]
pub struct Contact {
    /// The contact id.
    pub id: i64,
    /// The name.
    pub name: String,
    /// The e-mail address, when known.
    pub email: Option<String>,
    /// The phone number, when known.
    pub phone_number: Option<String>,
    /// The identifier the customer's own system gave, when known.
    pub identifier: Option<String>,
    /// Always empty.
    pub thumbnail: String,
    /// What the channel told about the contact.
    #[schema(value_type = Object)]
    pub additional_attributes: Value,
    /// Attributes set through the API.
    #[schema(value_type = Object)]
    pub custom_attributes: Value,
    /// Always false.
    pub blocked: bool,
    /// Always `contact`.
    #[schema(rename = "type")]
    pub kind: String,
}

/// Who wrote a message: the contact, or an agent.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum MessageSender {
    /// The customer.
    Contact(Contact),
    /// An agent.
    Agent(AgentSummary),
}

/// A file, picture, location or other attachment of a message.
#[derive(ToSchema)]
pub struct Attachment {
    /// An id derived from the message id and the attachment's position.
    pub id: i64,
    /// The message it belongs to.
    pub message_id: i64,
    /// `image`, `audio`, `video`, `file`, `location` or `fallback`.
    pub file_type: String,
    /// The account the message belongs to.
    pub account_id: i64,
    /// The file name's extension, when known.
    pub extension: Option<String>,
    /// Where the file can be fetched; empty when the provider gave only a media id.
    pub data_url: String,
    /// Always empty.
    pub thumb_url: String,
    /// Always 0.
    pub file_size: i64,
    /// Always null.
    pub width: Option<i64>,
    /// Always null.
    pub height: Option<i64>,
    /// Latitude of a location.
    pub coordinates_lat: Option<f64>,
    /// Longitude of a location.
    pub coordinates_long: Option<f64>,
    /// A title to show instead (a location's name, a contact card's name).
    pub fallback_title: Option<String>,
    /// Extra structured data (a contact card's phones).
    #[schema(value_type = Object)]
    pub meta: Value,
    /// The provider's media id, when it gave one.
    pub provider_media_id: Option<String>,
    /// The MIME type, when known.
    pub content_type: Option<String>,
    /// The original file name, when known.
    pub file_name: Option<String>,
}

/// A message as the Application API and realtime events show it.
#[derive(ToSchema)]
pub struct Message {
    /// The message id.
    pub id: i64,
    /// The text; null for an attachment without caption.
    pub content: Option<String>,
    /// The account id.
    pub account_id: i64,
    /// The inbox id.
    pub inbox_id: i64,
    /// The conversation's display id.
    pub conversation_id: i64,
    /// 0 incoming (from the customer), 1 outgoing, 2 activity, 3 template.
    pub message_type: i64,
    /// When it was created, in Unix seconds.
    pub created_at: i64,
    /// When it last changed, RFC 3339 in UTC.
    pub updated_at: String,
    /// Whether it is a private note, never shown to the customer.
    pub private: bool,
    /// Where it is in its delivery.
    pub status: MessageStatus,
    /// The provider's id for it, when it has one.
    pub source_id: Option<String>,
    /// How its content is to be read.
    pub content_type: ContentType,
    /// Extra content for rich messages (replies, cards, prompts).
    #[schema(value_type = Object)]
    pub content_attributes: Value,
    /// `Contact` or `User`; null for system messages.
    pub sender_type: Option<String>,
    /// The contact's or user's id; null for system messages.
    pub sender_id: Option<i64>,
    /// Always empty.
    #[schema(value_type = Object)]
    pub external_source_ids: Value,
    /// Always empty.
    #[schema(value_type = Object)]
    pub additional_attributes: Value,
    /// The same as `content`.
    pub processed_message_content: Option<String>,
    /// Always empty.
    #[schema(value_type = Object)]
    pub sentiment: Value,
    /// What the dashboard needs of the conversation.
    pub conversation: MessageConversation,
    /// The client's id for the message, when it sent one.
    pub echo_id: Option<String>,
    /// Present only when the message has attachments.
    pub attachments: Option<Vec<Attachment>>,
    /// Absent for system messages.
    pub sender: Option<MessageSender>,
}

/// A message's view of its conversation.
#[derive(ToSchema)]
pub struct MessageConversation {
    /// The assigned agent's id.
    pub assignee_id: Option<i64>,
    /// Incoming messages no agent has seen.
    pub unread_count: i64,
    /// The last activity, in Unix seconds.
    pub last_activity_at: i64,
    /// The customer's identity on the inbox.
    pub contact_inbox: MessageContactInbox,
}

/// The customer's identity on the inbox, as a message shows it.
#[derive(ToSchema)]
pub struct MessageContactInbox {
    /// The contact's id on the channel (a phone number, a Client API contact identifier).
    pub source_id: String,
}

/// A conversation as the Application API and realtime events show it.
#[derive(ToSchema)]
pub struct Conversation {
    /// The display id, numbered per account; paths address conversations by it.
    pub id: i64,
    /// The account id.
    pub account_id: i64,
    /// A unique id across accounts.
    pub uuid: String,
    /// The inbox id.
    pub inbox_id: i64,
    /// The status.
    pub status: ConversationStatus,
    /// Always true.
    pub can_reply: bool,
    /// The inbox's kind of channel.
    pub channel: ChannelType,
    /// The customer's identity on the inbox.
    pub contact_inbox: ConversationContactInbox,
    /// The last message the customer can see, or none.
    pub messages: Vec<Message>,
    /// Always empty: labels are not supported.
    pub labels: Vec<String>,
    /// Who is talking to whom.
    pub meta: ConversationMeta,
    /// What the channel told about the conversation.
    #[schema(value_type = Object)]
    pub additional_attributes: Value,
    /// Attributes set through the API.
    #[schema(value_type = Object)]
    pub custom_attributes: Value,
    /// Always null.
    pub snoozed_until: Option<i64>,
    /// Incoming messages no agent has seen.
    pub unread_count: i64,
    /// When an agent first replied, in Unix seconds.
    pub first_reply_created_at: Option<i64>,
    /// `low`, `medium`, `high` or `urgent`.
    pub priority: Option<String>,
    /// Since when the customer waits for a reply, in Unix seconds; 0 when not waiting.
    pub waiting_since: i64,
    /// When an agent last looked, in Unix seconds; 0 for never.
    pub agent_last_seen_at: i64,
    /// When the contact last looked, in Unix seconds; 0 for never.
    pub contact_last_seen_at: i64,
    /// Always 0.
    pub assignee_last_seen_at: i64,
    /// The last activity, in Unix seconds.
    pub last_activity_at: i64,
    /// The same as `last_activity_at`.
    pub timestamp: i64,
    /// When it was created, in Unix seconds.
    pub created_at: i64,
    /// When it last changed, in Unix seconds with a fraction.
    pub updated_at: f64,
    /// Always false.
    pub muted: bool,
    /// Always null.
    pub sla_policy_id: Option<i64>,
}

/// The customer's identity on the inbox, as a conversation shows it.
#[derive(ToSchema)]
pub struct ConversationContactInbox {
    /// The contact inbox's id.
    pub id: i64,
    /// The contact id.
    pub contact_id: i64,
    /// The inbox id.
    pub inbox_id: i64,
    /// The contact's id on the channel.
    pub source_id: String,
    /// Always false.
    pub hmac_verified: bool,
    /// The token the contact's widget would subscribe to `/cable` with.
    pub pubsub_token: String,
}

/// Who is talking to whom in a conversation.
#[derive(ToSchema)]
pub struct ConversationMeta {
    /// The customer.
    pub sender: Contact,
    /// The inbox's kind of channel.
    pub channel: ChannelType,
    /// The assigned agent, or null.
    pub assignee: Option<AgentSummary>,
    /// Always null: teams are not supported.
    #[schema(value_type = Option<Object>)]
    pub team: Option<Value>,
    /// Always false.
    pub hmac_verified: bool,
}

/// A page of conversations with the counts of each assignee filter.
#[derive(ToSchema)]
pub struct ConversationList {
    /// The page and its counts.
    pub data: ConversationPage,
}

/// A page of conversations (25 a page) with counts.
#[derive(ToSchema)]
pub struct ConversationPage {
    /// Counts over every page, with the status and inbox filters applied.
    pub meta: ConversationCounts,
    /// The conversations, most recently active first.
    pub payload: Vec<Conversation>,
}

/// How many conversations each assignee filter would list.
#[derive(ToSchema)]
pub struct ConversationCounts {
    /// Assigned to the caller.
    pub mine_count: i64,
    /// Assigned to anyone.
    pub assigned_count: i64,
    /// Assigned to no one.
    pub unassigned_count: i64,
    /// All of them.
    pub all_count: i64,
}

/// A page of a conversation's messages.
#[derive(ToSchema)]
pub struct MessageList {
    /// The conversation's people and reading state.
    pub meta: MessageListMeta,
    /// The messages, oldest first.
    pub payload: Vec<Message>,
}

/// What a message page says about its conversation.
#[derive(ToSchema)]
pub struct MessageListMeta {
    /// Always empty: labels are not supported.
    pub labels: Vec<String>,
    /// The conversation's additional attributes.
    #[schema(value_type = Object)]
    pub additional_attributes: Value,
    /// The customer.
    pub contact: Contact,
    /// The assigned agent, or null.
    pub assignee: Option<AgentSummary>,
    /// When an agent last looked, in Unix seconds; 0 for never.
    pub agent_last_seen_at: i64,
    /// Always 0.
    pub assignee_last_seen_at: i64,
}

/// The answer to a status change.
#[derive(ToSchema)]
pub struct StatusChange {
    /// Always empty.
    #[schema(value_type = Object)]
    pub meta: Value,
    /// The outcome.
    pub payload: StatusChangeOutcome,
}

/// The outcome of a status change.
#[derive(ToSchema)]
pub struct StatusChangeOutcome {
    /// Always true: a failure is an error response instead.
    pub success: bool,
    /// The conversation's display id.
    pub conversation_id: i64,
    /// The status now.
    pub current_status: ConversationStatus,
    /// Always null.
    pub snoozed_until: Option<i64>,
}

/// An API inbox as its customers see it.
#[derive(ToSchema)]
pub struct PublicInbox {
    /// The inbox identifier from the path.
    pub identifier: String,
    /// The inbox's name.
    pub name: String,
    /// Always `UTC`.
    pub timezone: String,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub working_hours: Vec<Value>,
    /// Always false.
    pub working_hours_enabled: bool,
    /// Always false.
    pub csat_survey_enabled: bool,
    /// Always false.
    pub greeting_enabled: bool,
    /// Always false: `identifier_hash` is not checked.
    pub identity_validation_enabled: bool,
}

/// A contact as the Client API shows it to the customer.
#[derive(ToSchema)]
pub struct PublicContact {
    /// The contact id.
    pub id: i64,
    /// The contact identifier: the credential of the paths below the contact.
    pub source_id: String,
    /// The token the customer's widget would subscribe to `/cable` with.
    pub pubsub_token: String,
    /// The name.
    pub name: String,
    /// The e-mail address, when known.
    pub email: Option<String>,
    /// The phone number, when known.
    pub phone_number: Option<String>,
}

/// A conversation as the Client API shows it to the customer.
#[derive(ToSchema)]
pub struct PublicConversation {
    /// The display id.
    pub id: i64,
    /// A unique id across accounts.
    pub uuid: String,
    /// The inbox id.
    pub inbox_id: i64,
    /// The status.
    pub status: ConversationStatus,
    /// When the contact last looked, in Unix seconds.
    pub contact_last_seen_at: Option<i64>,
    /// When an agent last looked, in Unix seconds.
    pub agent_last_seen_at: Option<i64>,
    /// The messages the customer can see (the latest 100); empty in listings.
    pub messages: Vec<PublicMessage>,
    /// The customer.
    pub contact: PublicConversationContact,
}

/// The customer, as a Client API conversation shows them.
#[derive(ToSchema)]
pub struct PublicConversationContact {
    /// The contact id.
    pub id: i64,
    /// The name.
    pub name: String,
    /// The e-mail address, when known.
    pub email: Option<String>,
    /// The phone number, when known.
    pub phone_number: Option<String>,
}

/// A message as the Client API shows it to the customer. Private notes are never shown.
#[derive(ToSchema)]
pub struct PublicMessage {
    /// The message id.
    pub id: i64,
    /// The text.
    pub content: Option<String>,
    /// 0 incoming (from the customer), 1 outgoing, 2 activity, 3 template.
    pub message_type: i64,
    /// How its content is to be read.
    pub content_type: ContentType,
    /// Extra content for rich messages.
    #[schema(value_type = Object)]
    pub content_attributes: Value,
    /// When it was created, in Unix seconds.
    pub created_at: i64,
    /// The conversation's display id.
    pub conversation_id: i64,
    /// The client's id for the message, when it sent one.
    pub echo_id: Option<String>,
    /// Where it is in its delivery.
    pub status: MessageStatus,
    /// The attachments; empty when there are none.
    pub attachments: Vec<Attachment>,
    /// Null for system messages.
    pub sender: Option<PublicSender>,
}

/// Who wrote a message, as the customer sees it.
#[derive(ToSchema)]
pub struct PublicSender {
    /// The contact's or user's id.
    pub id: i64,
    /// The contact's name; absent for agents.
    pub name: Option<String>,
    /// `contact` or `user`.
    #[schema(rename = "type")]
    pub kind: String,
}

/// Meta's webhook notification, as far as Switchyard reads it.
#[derive(ToSchema)]
#[schema(example = json!({
    "object": "whatsapp_business_account",
    "entry": [{ "id": "102290129340398", "changes": [{ "field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550001111", "phone_number_id": "106540352242922" },
        "contacts": [{ "profile": { "name": "Dana" }, "wa_id": "15550002222" }],
        "messages": [{ "from": "15550002222", "id": "wamid.example-1", "timestamp": "1749416383",
            "type": "text", "text": { "body": "Is my order on its way?" } }]
    } }] }]
}))]
pub struct WhatsappNotification {
    /// `whatsapp_business_account`; anything else is refused with 422.
    pub object: String,
    /// One entry per business account.
    pub entry: Vec<WhatsappEntry>,
}

/// One business account's changes in a WhatsApp notification.
#[derive(ToSchema)]
pub struct WhatsappEntry {
    /// The business account id.
    pub id: String,
    /// What changed.
    pub changes: Vec<WhatsappChange>,
}

/// One change in a WhatsApp notification.
#[derive(ToSchema)]
pub struct WhatsappChange {
    /// `messages` is read; other fields are acknowledged and ignored.
    pub field: String,
    /// For `messages`: `metadata.phone_number_id` (must be this inbox's number id), and
    /// `contacts`, `messages`, `statuses` and `errors` as Meta documents them.
    #[schema(value_type = Object)]
    pub value: Value,
}

/// The answer to an accepted WhatsApp notification, once everything in it is durable.
#[derive(ToSchema)]
pub struct WebhookAccepted {
    /// Always `ok`.
    pub status: String,
    /// Messages stored for the first time.
    pub stored: u64,
    /// Messages already stored by an earlier delivery of the same notification.
    pub duplicates: u64,
    /// Delivery statuses applied.
    pub statuses: u64,
}

#[cfg(test)]
mod tests {
    //! The shapes are checked against what the presenters really render, so that a field added
    //! to a response without its schema (or a schema field no response has) fails here.

    use crate::api::openapi::ApiDoc;
    use crate::api::present;
    use serde_json::{Value, json};
    use switchyard_engine::channel::{ApiChannel, Channel, Inbox, WhatsappChannel};
    use switchyard_engine::contact::{Contact, ContactInbox};
    use switchyard_engine::conversation::{Conversation, ConversationStatus};
    use switchyard_engine::message::{self, Attachment, FileType, MessageType, Sender};
    use switchyard_engine::push::{self, ConversationContext, MessageContext};
    use switchyard_engine::secret::Secret;
    use switchyard_engine::user::{Role, UserSummary};
    use switchyard_engine::{
        AccountId, ContactId, ConversationId, InboxId, MessageId, Timestamp, UserId,
    };
    use switchyard_storage::{Account, User};
    use utoipa::OpenApi;

    const AT: Timestamp = Timestamp(1_700_000_000_000_000);

    /// Where `value` departs from `schema`, following `$ref`s into `document`.
    fn departures(document: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
        if let Some(target) = schema["$ref"].as_str() {
            let resolved = document.pointer(target.trim_start_matches('#'));
            return departures(document, resolved.unwrap_or(&Value::Null), value, at);
        }
        if let Some(alternatives) = schema["oneOf"].as_array() {
            let fits = alternatives
                .iter()
                .any(|alternative| departures(document, alternative, value, at).is_empty());
            return match fits {
                true => Vec::new(),
                false => vec![format!("{at}: {value} fits none of {alternatives:?}")],
            };
        }
        if !type_fits(&schema["type"], value) {
            return vec![format!("{at}: {value} is not of type {}", schema["type"])];
        }
        match value {
            Value::Object(fields) => object_departures(document, schema, fields, at),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .flat_map(|(index, item)| {
                    departures(document, &schema["items"], item, &format!("{at}[{index}]"))
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn object_departures(
        document: &Value,
        schema: &Value,
        fields: &serde_json::Map<String, Value>,
        at: &str,
    ) -> Vec<String> {
        let Some(properties) = schema["properties"].as_object() else {
            return Vec::new();
        };
        let mut found: Vec<String> = fields
            .keys()
            .filter(|key| !properties.contains_key(*key))
            .map(|key| format!("{at}.{key}: rendered but not in the schema"))
            .collect();
        let required = schema["required"].as_array().into_iter().flatten();
        for name in required.filter_map(Value::as_str) {
            if !fields.contains_key(name) {
                found.push(format!("{at}.{name}: required but not rendered"));
            }
        }
        for (name, property) in properties {
            if let Some(field) = fields.get(name) {
                found.extend(departures(
                    document,
                    property,
                    field,
                    &format!("{at}.{name}"),
                ));
            }
        }
        found
    }

    fn type_fits(expected: &Value, value: &Value) -> bool {
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(number) if number.is_f64() => "number",
            Value::Number(_) => "integer",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let fits = |name: &str| name == actual || (name == "number" && actual == "integer");
        match expected {
            Value::String(name) => fits(name),
            Value::Array(names) => names.iter().filter_map(Value::as_str).any(fits),
            _ => true,
        }
    }

    fn assert_fits(schema_name: &str, value: &Value) {
        let document = serde_json::to_value(ApiDoc::openapi()).expect("the document serializes");
        let schema = json!({ "$ref": format!("#/components/schemas/{schema_name}") });
        let found = departures(&document, &schema, value, schema_name);
        assert!(
            found.is_empty(),
            "{schema_name} departs from its schema: {found:#?}"
        );
    }

    fn user() -> User {
        User {
            id: UserId(3),
            name: "Alan Agent".into(),
            display_name: Some("Alan".into()),
            email: "alan@example.com".into(),
            access_token: Secret::new("access"),
            pubsub_token: "pubsub".into(),
            created_at: AT,
        }
    }

    fn agent() -> UserSummary {
        user().summary()
    }

    fn contact() -> Contact {
        Contact {
            id: ContactId(7),
            account_id: AccountId(1),
            name: "Dana".into(),
            email: Some("dana@example.com".into()),
            phone_number: Some("+15550002222".into()),
            identifier: None,
            additional_attributes: json!({ "source": "api" }),
            custom_attributes: Value::Null,
            created_at: AT,
        }
    }

    fn contact_inbox() -> ContactInbox {
        ContactInbox {
            id: 11,
            contact_id: ContactId(7),
            inbox_id: InboxId(5),
            source_id: "contact-source".into(),
            pubsub_token: "contact-pubsub".into(),
        }
    }

    fn conversation() -> Conversation {
        Conversation {
            id: ConversationId(100),
            account_id: AccountId(1),
            inbox_id: InboxId(5),
            display_id: 9,
            uuid: "0b6a3c1e".into(),
            contact_id: ContactId(7),
            contact_inbox_id: 11,
            status: ConversationStatus::Open,
            assignee_id: Some(UserId(3)),
            team_id: None,
            priority: Some(2),
            additional_attributes: json!({}),
            custom_attributes: json!({ "plan": "gold" }),
            unread_count: 1,
            waiting_since: Some(AT),
            first_reply_created_at: None,
            agent_last_seen_at: None,
            contact_last_seen_at: Some(AT),
            last_activity_at: AT,
            created_at: AT,
            updated_at: AT,
            last_event_seq: 4,
        }
    }

    fn message(sender: Sender) -> message::Message {
        let mut attachment = Attachment::new(FileType::Image);
        attachment.data_url = Some("https://example.com/a.png".into());
        attachment.file_name = Some("a.png".into());
        message::Message {
            id: MessageId(40),
            account_id: AccountId(1),
            inbox_id: InboxId(5),
            conversation_id: ConversationId(100),
            message_type: MessageType::Incoming,
            content_type: message::ContentType::Text,
            content: Some("Is my order on its way?".into()),
            content_attributes: json!({}),
            private: false,
            status: message::MessageStatus::Delivered,
            source_id: Some("wamid.1".into()),
            sender,
            echo_id: Some("echo-1".into()),
            attachments: vec![attachment],
            created_at: AT,
            updated_at: AT,
        }
    }

    fn rendered_message(sender: Sender) -> Value {
        let (conversation, contact, contact_inbox, agent) =
            (conversation(), contact(), contact_inbox(), agent());
        let context = MessageContext {
            conversation: &conversation,
            contact_inbox: &contact_inbox,
            contact: &contact,
            agent: Some(&agent),
        };
        push::message(&message(sender), context)
    }

    fn inbox(channel: Channel) -> Inbox {
        Inbox {
            id: InboxId(5),
            account_id: AccountId(1),
            name: "Support".into(),
            enable_auto_assignment: true,
            lock_to_single_conversation: false,
            channel,
        }
    }

    #[test]
    fn accounts_users_and_agents_render_as_documented() {
        let account = Account {
            id: AccountId(1),
            name: "Acme".into(),
            locale: "en".into(),
            status: "active".into(),
            created_at: AT,
        };

        assert_fits("Account", &present::account(&account));
        assert_fits("PlatformUser", &present::platform_user(&user()));
        assert_fits("Agent", &present::agent(&user(), Role::Agent, "online"));
    }

    #[test]
    fn inboxes_of_both_channels_render_as_documented() {
        let api = Channel::Api(ApiChannel {
            identifier: "inbox-identifier".into(),
            webhook_url: "https://example.com/hook".into(),
            hmac_token: Secret::new("hmac"),
        });
        let whatsapp = Channel::Whatsapp(WhatsappChannel {
            phone_number: "15550001111".into(),
            phone_number_id: "106540352242922".into(),
            business_account_id: "102290129340398".into(),
            api_key: Secret::new("key"),
            webhook_verify_token: Secret::new("verify"),
            app_secret: Secret::new("secret"),
        });

        assert_fits("Inbox", &present::inbox(&inbox(api)));
        assert_fits("Inbox", &present::inbox(&inbox(whatsapp)));
    }

    #[test]
    fn messages_from_contacts_agents_and_the_system_render_as_documented() {
        for sender in [
            Sender::Contact(ContactId(7)),
            Sender::User(UserId(3)),
            Sender::System,
        ] {
            assert_fits("Message", &rendered_message(sender));
        }
    }

    #[test]
    fn conversations_render_as_documented() {
        let (conversation, contact, contact_inbox, agent) =
            (conversation(), contact(), contact_inbox(), agent());
        let last_message = rendered_message(Sender::Contact(ContactId(7)));
        let labels = ["vip".to_owned()];
        let context = ConversationContext {
            contact: &contact,
            contact_inbox: &contact_inbox,
            channel: switchyard_engine::channel::ChannelKind::Whatsapp,
            assignee: Some(&agent),
            last_message: Some(&last_message),
            labels: &labels,
        };

        assert_fits("Conversation", &push::conversation(&conversation, context));
    }
}
