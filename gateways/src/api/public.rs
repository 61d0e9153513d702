//! The Client API: the customer side of an API-channel inbox.
//!
//! There is no token: the inbox identifier and the contact identifier (the contact inbox's
//! source id, returned when the contact is created) are the credentials, as in Chatwoot.
//!
//! LIMITATION: the optional `identifier_hash` identity check (HMAC of the identifier with the
//! inbox's `hmac_token`) is not enforced yet.

use crate::api::messages::validated_content;
use crate::error::{ApiError, JsonBody, OptionalJsonBody};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_engine::channel::{Channel, Inbox};
use switchyard_engine::contact::{Contact, ContactInbox, ContactProfile};
use switchyard_engine::conversation::Conversation;
use switchyard_engine::inbound::InboundMessage;
use switchyard_engine::message::{ContentType, Message, Sender};
use switchyard_storage::MessagePage;

/// The Client API routes.
pub fn routes() -> Router<AppState> {
    let base = "/public/api/v1/inboxes/{inbox_identifier}";
    Router::new()
        .route(base, get(show_inbox))
        .route(&format!("{base}/contacts"), post(create_contact))
        .route(
            &format!("{base}/contacts/{{contact_identifier}}"),
            get(show_contact),
        )
        .route(
            &format!("{base}/contacts/{{contact_identifier}}/conversations"),
            post(create_conversation).get(list_conversations),
        )
        .route(
            &format!("{base}/contacts/{{contact_identifier}}/conversations/{{conversation_id}}"),
            get(show_conversation),
        )
        .route(
            &format!(
                "{base}/contacts/{{contact_identifier}}/conversations/{{conversation_id}}/messages"
            ),
            post(create_message).get(list_messages),
        )
}

async fn api_inbox(state: &AppState, identifier: &str) -> Result<Inbox, ApiError> {
    let inbox = state.inboxes.api(&state.store, identifier).await?;
    inbox
        .filter(|inbox| matches!(inbox.channel, Channel::Api(_)))
        .ok_or_else(|| ApiError::NotFound("inbox".into()))
}

async fn contact(
    state: &AppState,
    inbox: &Inbox,
    source_id: &str,
) -> Result<(Contact, ContactInbox), ApiError> {
    let contact = state.store.contact_inbox(inbox.id, source_id).await?;
    contact.ok_or_else(|| ApiError::NotFound("contact".into()))
}

async fn conversation_of(
    state: &AppState,
    inbox: &Inbox,
    contact_inbox: &ContactInbox,
    display_id: i64,
) -> Result<Conversation, ApiError> {
    let conversation = state
        .store
        .conversation_by_display_id(inbox.account_id, display_id)
        .await?;
    conversation
        .filter(|conversation| conversation.contact_inbox_id == contact_inbox.id)
        .ok_or_else(|| ApiError::NotFound("conversation".into()))
}

/// Shows the inbox.
pub async fn show_inbox(
    State(state): State<AppState>,
    Path(identifier): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let inbox = api_inbox(&state, &identifier).await?;
    Ok(Json(json!({
        "identifier": identifier,
        "name": inbox.name,
        "timezone": "UTC",
        "working_hours": [],
        "working_hours_enabled": false,
        "csat_survey_enabled": false,
        "greeting_enabled": false,
        "identity_validation_enabled": false,
    })))
}

/// `POST …/contacts` body.
#[derive(Debug, Default, Deserialize)]
pub struct NewContactBody {
    #[serde(default)]
    source_id: Option<String>,
    #[serde(default)]
    identifier: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone_number: Option<String>,
    #[serde(default)]
    custom_attributes: Option<Value>,
}

/// Creates a contact on the inbox (or returns the one with the given `source_id`).
pub async fn create_contact(
    State(state): State<AppState>,
    Path(identifier): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<NewContactBody>,
) -> Result<Json<Value>, ApiError> {
    let inbox = api_inbox(&state, &identifier).await?;
    let source_id = body
        .source_id
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let profile = ContactProfile {
        source_id,
        name: body.name,
        phone_number: body.phone_number,
        email: body.email,
        additional_attributes: json!({
            "identifier": body.identifier,
            "custom_attributes": body.custom_attributes,
        }),
    };
    let (contact, contact_inbox) = state
        .store
        .resolve_contact(inbox.account_id, inbox.id, &profile)
        .await?;
    Ok(Json(public_contact(&contact, &contact_inbox)))
}

/// Shows the contact.
pub async fn show_contact(
    State(state): State<AppState>,
    Path((identifier, source_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let inbox = api_inbox(&state, &identifier).await?;
    let (contact, contact_inbox) = contact(&state, &inbox, &source_id).await?;
    Ok(Json(public_contact(&contact, &contact_inbox)))
}

fn public_contact(contact: &Contact, contact_inbox: &ContactInbox) -> Value {
    json!({
        "id": contact.id,
        "source_id": contact_inbox.source_id,
        "pubsub_token": contact_inbox.pubsub_token,
        "name": contact.name,
        "email": contact.email,
        "phone_number": contact.phone_number,
    })
}

/// `POST …/conversations` body.
#[derive(Debug, Default, Deserialize)]
pub struct NewConversationBody {
    #[serde(default)]
    custom_attributes: Option<Value>,
}

/// Starts a conversation for the contact.
pub async fn create_conversation(
    State(state): State<AppState>,
    Path((identifier, source_id)): Path<(String, String)>,
    OptionalJsonBody(body): OptionalJsonBody<NewConversationBody>,
) -> Result<Json<Value>, ApiError> {
    let inbox = api_inbox(&state, &identifier).await?;
    let (contact, contact_inbox) = contact(&state, &inbox, &source_id).await?;
    let attributes = body.custom_attributes.unwrap_or_else(|| json!({}));
    let conversation = state
        .registry
        .start_conversation(&inbox, &contact, &contact_inbox, attributes)
        .await?;
    Ok(Json(public_conversation(&conversation, &contact, &[])))
}

/// Lists the contact's conversations.
pub async fn list_conversations(
    State(state): State<AppState>,
    Path((identifier, source_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let inbox = api_inbox(&state, &identifier).await?;
    let (contact, contact_inbox) = contact(&state, &inbox, &source_id).await?;
    let conversations = state
        .store
        .conversations_of_contact_inbox(contact_inbox.id)
        .await?;
    let payload: Vec<Value> = conversations
        .iter()
        .map(|conversation| public_conversation(conversation, &contact, &[]))
        .collect();
    Ok(Json(Value::Array(payload)))
}

/// Shows one of the contact's conversations with its messages.
pub async fn show_conversation(
    State(state): State<AppState>,
    Path((identifier, source_id, display_id)): Path<(String, String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let inbox = api_inbox(&state, &identifier).await?;
    let (contact, contact_inbox) = contact(&state, &inbox, &source_id).await?;
    let conversation = conversation_of(&state, &inbox, &contact_inbox, display_id).await?;
    let messages = visible_messages(&state, &conversation, &contact).await?;
    Ok(Json(public_conversation(
        &conversation,
        &contact,
        &messages,
    )))
}

fn public_conversation(
    conversation: &Conversation,
    contact: &Contact,
    messages: &[Value],
) -> Value {
    json!({
        "id": conversation.display_id,
        "uuid": conversation.uuid,
        "inbox_id": conversation.inbox_id,
        "status": conversation.status.as_str(),
        "contact_last_seen_at": conversation.contact_last_seen_at.map(|at| at.unix_seconds()),
        "agent_last_seen_at": conversation.agent_last_seen_at.map(|at| at.unix_seconds()),
        "messages": messages,
        "contact": {
            "id": contact.id,
            "name": contact.name,
            "email": contact.email,
            "phone_number": contact.phone_number,
        },
    })
}

/// `POST …/messages` body.
#[derive(Debug, Deserialize)]
pub struct NewMessageBody {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    echo_id: Option<String>,
}

/// Adds a customer message to the conversation. Returns once it is durable.
pub async fn create_message(
    State(state): State<AppState>,
    Path((identifier, source_id, display_id)): Path<(String, String, i64)>,
    JsonBody(body): JsonBody<NewMessageBody>,
) -> Result<Json<Value>, ApiError> {
    let inbox = api_inbox(&state, &identifier).await?;
    let (contact, contact_inbox) = contact(&state, &inbox, &source_id).await?;
    let conversation = conversation_of(&state, &inbox, &contact_inbox, display_id).await?;
    let content = validated_content(body.content)?;
    let inbound = InboundMessage {
        contact: ContactProfile {
            source_id: contact_inbox.source_id.clone(),
            ..ContactProfile::default()
        },
        source_id: None,
        content: Some(content),
        content_type: ContentType::Text,
        content_attributes: json!({}),
        attachments: Vec::new(),
        sent_at: None,
        echo_id: body.echo_id,
    };
    let message = state
        .registry
        .post_incoming(conversation.id, inbound)
        .await?;
    Ok(Json(public_message(&message, display_id, &contact)))
}

/// Lists the conversation's messages the customer can see.
pub async fn list_messages(
    State(state): State<AppState>,
    Path((identifier, source_id, display_id)): Path<(String, String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let inbox = api_inbox(&state, &identifier).await?;
    let (contact, contact_inbox) = contact(&state, &inbox, &source_id).await?;
    let conversation = conversation_of(&state, &inbox, &contact_inbox, display_id).await?;
    Ok(Json(Value::Array(
        visible_messages(&state, &conversation, &contact).await?,
    )))
}

async fn visible_messages(
    state: &AppState,
    conversation: &Conversation,
    contact: &Contact,
) -> Result<Vec<Value>, ApiError> {
    let messages = state
        .store
        .messages(conversation.id, MessagePage::Latest { limit: 100 })
        .await?;
    Ok(messages
        .iter()
        .filter(|message| !message.private)
        .map(|message| public_message(message, conversation.display_id, contact))
        .collect())
}

fn public_message(message: &Message, display_id: i64, contact: &Contact) -> Value {
    let sender = match message.sender {
        Sender::Contact(_) => json!({ "id": contact.id, "name": contact.name, "type": "contact" }),
        Sender::User(id) => json!({ "id": id, "type": "user" }),
        Sender::System => Value::Null,
    };
    json!({
        "id": message.id,
        "content": message.content,
        "message_type": message.message_type.code(),
        "content_type": message.content_type.as_str(),
        "content_attributes": message.content_attributes,
        "created_at": message.created_at.unix_seconds(),
        "conversation_id": display_id,
        "echo_id": message.echo_id,
        "status": message.status.as_str(),
        "attachments": switchyard_engine::push::attachments(message),
        "sender": sender,
    })
}
