//! The Client API: the customer side of an API-channel inbox.
//!
//! There is no token: the inbox identifier and the contact identifier (the contact inbox's
//! source id, returned when the contact is created) are the credentials, as in Chatwoot.
//!
//! LIMITATION: the optional `identifier_hash` identity check (HMAC of the identifier with the
//! inbox's `hmac_token`) is not enforced yet.

use crate::api::messages::validated_content;
use crate::api::openapi::{self, params, schemas};
use crate::error::{ApiError, JsonBody, OptionalJsonBody, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_engine::channel::{Channel, Inbox};
use switchyard_engine::contact::{Contact, ContactInbox, ContactProfile, EmailAddress};
use switchyard_engine::conversation::Conversation;
use switchyard_engine::inbound::InboundMessage;
use switchyard_engine::message::{ContentType, Message, Sender};
use switchyard_storage::MessagePage;
use utoipa::ToSchema;

/// The Client API routes. Each must be documented in `api/openapi.rs` (checked by its test).
///
/// Browsers call them from the websites the chat widget is embedded in, so they answer CORS
/// preflights and allow any origin: the identifiers in the path are the credentials, not
/// cookies, so another origin gains nothing it could not do with the identifiers anyway.
pub fn routes() -> Router<AppState> {
    use axum::http::{Method, header};
    use tower_http::cors::{Any, CorsLayer};

    let base = "/public/api/v1/inboxes/{inbox_identifier}";
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE]);
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
        // Set here, under the CORS layer, because a preflight (`OPTIONS`) reaches the
        // method-not-allowed fallback; the node's router cannot replace a layered fallback.
        .method_not_allowed_fallback(crate::error::method_not_allowed)
        .layer(cors)
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

/// A conversation named by a Client API path: it must be on that API inbox and belong to that
/// contact, else it is not found.
async fn customer_conversation(
    state: &AppState,
    identifier: &str,
    source_id: &str,
    display_id: i64,
) -> Result<(Contact, Conversation), ApiError> {
    let inbox = api_inbox(state, identifier).await?;
    let (contact, contact_inbox) = contact(state, &inbox, source_id).await?;
    let conversation = state
        .store
        .conversation_by_display_id(inbox.account_id, display_id)
        .await?;
    let conversation = conversation
        .filter(|conversation| conversation.contact_inbox_id == contact_inbox.id)
        .ok_or_else(|| ApiError::NotFound("conversation".into()))?;
    Ok((contact, conversation))
}

/// Shows the inbox.
#[utoipa::path(
    get,
    path = "/public/api/v1/inboxes/{inbox_identifier}",
    operation_id = "public_show_inbox",
    tag = "Client API",
    params(params::PublicInboxPath),
    responses(
        (status = 200, description = "The inbox", body = schemas::PublicInbox),
        (status = 404, description = "No API inbox has this identifier", body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
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
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewContactBody {
    /// The contact identifier to use; a random UUID when absent or empty. A contact that
    /// already has it is returned instead of a new one.
    #[serde(default)]
    source_id: Option<String>,
    /// The customer's id in the client's own system.
    #[serde(default)]
    identifier: Option<String>,
    /// The name.
    #[serde(default)]
    name: Option<String>,
    /// The e-mail address.
    #[serde(default)]
    email: Option<String>,
    /// The phone number.
    #[serde(default)]
    phone_number: Option<String>,
    /// Attributes of the client's choosing.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    custom_attributes: Option<Value>,
}

/// Creates a contact on the inbox (or returns the one with the given `source_id`).
#[utoipa::path(
    post,
    path = "/public/api/v1/inboxes/{inbox_identifier}/contacts",
    operation_id = "public_create_contact",
    tag = "Client API",
    params(params::PublicInboxPath),
    request_body(content = Option<NewContactBody>, description = "Optional"),
    responses(
        (
            status = 200,
            description = "The contact, new or the one with the given `source_id`",
            body = schemas::PublicContact
        ),
        (status = 400, description = openapi::NOT_JSON, body = schemas::ErrorBody),
        (status = 404, description = "No API inbox has this identifier", body = schemas::ErrorBody),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
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
        email: body
            .email
            .filter(|email| !email.trim().is_empty())
            .map(|email| EmailAddress::parse(&email).map(EmailAddress::into_string))
            .transpose()
            .map_err(|error| ApiError::Unprocessable(error.to_string()))?,
        identifier: body.identifier.filter(|identifier| !identifier.is_empty()),
        additional_attributes: json!({ "custom_attributes": body.custom_attributes }),
    };
    let (contact, contact_inbox) = state
        .store
        .resolve_contact(inbox.account_id, inbox.id, &profile)
        .await?;
    Ok(Json(public_contact(&contact, &contact_inbox)))
}

/// Shows the contact.
#[utoipa::path(
    get,
    path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}",
    operation_id = "public_show_contact",
    tag = "Client API",
    params(params::PublicContactPath),
    responses(
        (status = 200, description = "The contact", body = schemas::PublicContact),
        (
            status = 404,
            description = "No such API inbox, or no such contact on it",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
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
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewConversationBody {
    /// Attributes of the client's choosing.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    custom_attributes: Option<Value>,
}

/// Starts a conversation for the contact.
#[utoipa::path(
    post,
    path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations",
    operation_id = "public_create_conversation",
    tag = "Client API",
    params(params::PublicContactPath),
    request_body(content = Option<NewConversationBody>, description = "Optional"),
    responses(
        (
            status = 200,
            description = "The new conversation, without messages",
            body = schemas::PublicConversation
        ),
        (status = 400, description = openapi::NOT_JSON, body = schemas::ErrorBody),
        (
            status = 404,
            description = "No such API inbox, or no such contact on it",
            body = schemas::ErrorBody
        ),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
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
#[utoipa::path(
    get,
    path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations",
    operation_id = "public_list_conversations",
    tag = "Client API",
    params(params::PublicContactPath),
    responses(
        (
            status = 200,
            description = "The contact's conversations on the inbox, without messages",
            body = Vec<schemas::PublicConversation>
        ),
        (
            status = 404,
            description = "No such API inbox, or no such contact on it",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
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
#[utoipa::path(
    get,
    path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations/{conversation_id}",
    operation_id = "public_show_conversation",
    tag = "Client API",
    params(params::PublicConversationPath),
    responses(
        (
            status = 200,
            description = "The conversation with the latest 100 messages the customer may see",
            body = schemas::PublicConversation
        ),
        (status = 400, description = openapi::BAD_PATH_ID, body = schemas::ErrorBody),
        (
            status = 404,
            description = "No such API inbox or contact, or the conversation is not the contact's",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn show_conversation(
    State(state): State<AppState>,
    Path((identifier, source_id, display_id)): Path<(String, String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let (contact, conversation) =
        customer_conversation(&state, &identifier, &source_id, display_id).await?;
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
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PublicNewMessageBody)]
pub struct NewMessageBody {
    /// The text; required, not blank, at most Chatwoot's length limit.
    #[serde(default)]
    content: Option<String>,
    /// The client's own id for the message, echoed back.
    #[serde(default)]
    echo_id: Option<String>,
}

/// Adds a customer message to the conversation. Returns once it is durable.
#[utoipa::path(
    post,
    path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations/{conversation_id}/messages",
    operation_id = "public_create_message",
    tag = "Client API",
    params(params::PublicConversationPath),
    request_body = NewMessageBody,
    responses(
        (
            status = 200,
            description = "The stored message, answered once it is durable",
            body = schemas::PublicMessage
        ),
        (
            status = 400,
            description = "The body is not valid JSON, or `conversation_id` is not an integer",
            body = schemas::ErrorBody
        ),
        (
            status = 404,
            description = "No such API inbox or contact, or the conversation is not the contact's",
            body = schemas::ErrorBody
        ),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (status = 415, description = openapi::NOT_JSON_TYPE, body = schemas::ErrorBody),
        (
            status = 422,
            description = "A field is of the wrong type, the content is blank or too long, or the \
                conversation is resolved",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn create_message(
    State(state): State<AppState>,
    Path((identifier, source_id, display_id)): Path<(String, String, i64)>,
    JsonBody(body): JsonBody<NewMessageBody>,
) -> Result<Json<Value>, ApiError> {
    let (contact, conversation) =
        customer_conversation(&state, &identifier, &source_id, display_id).await?;
    let content = validated_content(body.content)?;
    let inbound = InboundMessage {
        contact: ContactProfile {
            source_id: source_id.clone(),
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
#[utoipa::path(
    get,
    path = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations/{conversation_id}/messages",
    operation_id = "public_list_messages",
    tag = "Client API",
    params(params::PublicConversationPath),
    responses(
        (
            status = 200,
            description = "The latest 100 messages the customer may see, oldest first",
            body = Vec<schemas::PublicMessage>
        ),
        (status = 400, description = openapi::BAD_PATH_ID, body = schemas::ErrorBody),
        (
            status = 404,
            description = "No such API inbox or contact, or the conversation is not the contact's",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn list_messages(
    State(state): State<AppState>,
    Path((identifier, source_id, display_id)): Path<(String, String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let (contact, conversation) =
        customer_conversation(&state, &identifier, &source_id, display_id).await?;
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
    let message_json = json!({
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
    });
    switchyard_engine::push::for_contact(&message_json)
}
