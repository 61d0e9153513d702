//! A conversation's messages: reading them, and agents writing replies and notes.

use crate::api::conversations::visible_conversation;
use crate::api::openapi::{self, params, schemas};
use crate::api::present;
use crate::auth::CurrentUser;
use crate::error::{ApiError, JsonBody, Path, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_actors::conversation::{ConversationMessage, OutgoingDraft};
use switchyard_engine::channel::Channel;
use switchyard_engine::inbound::StatusReport;
use switchyard_engine::message::{ContentType, MAX_CONTENT_CHARS, MessageStatus, MessageType};
use switchyard_engine::{AccountId, MessageId};
use switchyard_storage::MessagePage;
use utoipa::{IntoParams, ToSchema};

/// Messages in the latest page and in a `before` page, as in Chatwoot.
const PAGE: u32 = 20;
/// Messages in an `after` page, as in Chatwoot.
const AFTER_PAGE: u32 = 100;

/// `GET …/messages` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The 20 messages just before this message id.
    #[serde(default)]
    before: Option<i64>,
    /// The 100 messages just after this message id (ignored with `before`).
    #[serde(default)]
    after: Option<i64>,
}

/// Lists messages, oldest first within the page: the latest page, or the page just before
/// or after a message id.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages",
    operation_id = "list_messages",
    tag = "Messages",
    security(("userApiKey" = [])),
    params(params::ConversationPath, ListQuery),
    responses(
        (
            status = 200,
            description = "A page of messages, oldest first: the latest 20 without a query",
            body = schemas::MessageList
        ),
        (
            status = 400,
            description = "A path id or a query value is not an integer",
            body = schemas::ErrorBody
        ),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (
            status = 404,
            description = "No such conversation in the account, or an agent is not a member of \
                its inbox",
            body = schemas::ErrorBody
        ),
        (
            status = 500,
            description = "A stored conversation lacks its contact or its inbox",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn list(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let conversation =
        visible_conversation(&state, &user, AccountId(account_id), display_id).await?;
    let page = match (query.before, query.after) {
        (Some(id), _) => MessagePage::Before {
            id: MessageId(id),
            limit: PAGE,
        },
        (None, Some(id)) => MessagePage::After {
            id: MessageId(id),
            limit: AFTER_PAGE,
        },
        (None, None) => MessagePage::Latest { limit: PAGE },
    };
    let messages = state.store.messages(conversation.id, page).await?;
    let view = present::ConversationView::load(&state, &conversation).await?;
    let payload = view.messages(&state, &messages).await?;
    let rendered = view.render(&state).await?;
    Ok(Json(json!({
        "meta": {
            "labels": [],
            "additional_attributes": rendered["additional_attributes"],
            "contact": rendered["meta"]["sender"],
            "assignee": rendered["meta"]["assignee"],
            "agent_last_seen_at": rendered["agent_last_seen_at"],
            "assignee_last_seen_at": rendered["assignee_last_seen_at"],
        },
        "payload": payload,
    })))
}

/// `POST …/messages` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMessageBody {
    /// The text; required, not blank, at most Chatwoot's length limit.
    #[serde(default)]
    content: Option<String>,
    /// A private note, kept inside the contact center, instead of a reply.
    #[serde(default)]
    private: bool,
    /// `outgoing` (when absent), the only type an agent may send.
    #[serde(default)]
    message_type: Option<String>,
    /// `text` when absent; one of Chatwoot's content types.
    #[serde(default)]
    content_type: Option<String>,
    /// Extra content for rich messages.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    content_attributes: Option<Value>,
    /// The client's own id for the message, echoed back in events.
    #[serde(default)]
    echo_id: Option<String>,
}

/// An agent's reply (delivered on the customer's channel) or private note (kept inside).
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages",
    operation_id = "create_message",
    tag = "Messages",
    security(("userApiKey" = [])),
    params(params::ConversationPath),
    request_body = NewMessageBody,
    responses(
        (
            status = 200,
            description = "The stored message; delivery on the customer's channel follows",
            body = schemas::Message
        ),
        (status = 400, description = openapi::NOT_JSON_OR_BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (
            status = 404,
            description = "No such conversation in the account, or an agent is not a member of \
                its inbox",
            body = schemas::ErrorBody
        ),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (status = 415, description = openapi::NOT_JSON_TYPE, body = schemas::ErrorBody),
        (
            status = 422,
            description = "A field is of the wrong type, the content is blank or too long, or the \
                message type or content type is not supported",
            body = schemas::ErrorBody
        ),
        (
            status = 500,
            description = "A stored conversation lacks its contact or its inbox",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn create(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    JsonBody(body): JsonBody<NewMessageBody>,
) -> Result<Json<Value>, ApiError> {
    let conversation =
        visible_conversation(&state, &user, AccountId(account_id), display_id).await?;
    let content = validated_content(body.content)?;
    let message_type = body.message_type.as_deref().unwrap_or("outgoing");
    if MessageType::parse(message_type).ok() != Some(MessageType::Outgoing) {
        return Err(ApiError::Unprocessable(format!(
            "message_type `{message_type}` is not supported here; agents send outgoing messages"
        )));
    }
    let content_type = match body.content_type.as_deref() {
        Some(name) => {
            ContentType::parse(name).map_err(|e| ApiError::Unprocessable(e.to_string()))?
        }
        None => ContentType::Text,
    };
    let draft = OutgoingDraft {
        sender: user.summary(),
        content,
        private: body.private,
        content_type,
        content_attributes: body.content_attributes.unwrap_or_else(|| json!({})),
        echo_id: body.echo_id,
    };
    let message = state.registry.reply(conversation.id, draft).await?;
    let conversation = state.registry.snapshot(conversation.id).await?;
    Ok(Json(
        present::ConversationView::load(&state, &conversation)
            .await?
            .message(&state, &message)
            .await?,
    ))
}

/// Checks a message's text: present, not blank, not over Chatwoot's length limit.
pub fn validated_content(content: Option<String>) -> Result<String, ApiError> {
    let content = content.unwrap_or_default();
    if content.trim().is_empty() {
        return Err(ApiError::Unprocessable("content must not be empty".into()));
    }
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(ApiError::Unprocessable(format!(
            "content is longer than {MAX_CONTENT_CHARS} characters"
        )));
    }
    Ok(content)
}

/// `PATCH …/messages/{message_id}` body: a delivery receipt from the API channel's own system.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MessageStatusBody {
    /// `delivered`, `read` or `failed`.
    status: String,
    /// Why delivery failed, for `failed`.
    #[serde(default)]
    external_error: Option<String>,
}

/// Records a delivery receipt for an agent's message on an API inbox: the integrator's system
/// reports that the customer received (`delivered`), read (`read`) or never got (`failed`) it.
/// A status never moves backwards; agents see `message.updated`.
#[utoipa::path(
    patch,
    path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages/{message_id}",
    operation_id = "update_message_status",
    tag = "Messages",
    security(("userApiKey" = [])),
    params(params::MessagePath),
    request_body = MessageStatusBody,
    responses(
        (status = 200, description = "The message with its status", body = schemas::Message),
        (status = 400, description = openapi::NOT_JSON_OR_BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (
            status = 404,
            description = "No such conversation or message, or an agent is not a member of its inbox",
            body = schemas::ErrorBody
        ),
        (
            status = 422,
            description = "The status is not delivered, read or failed, the inbox is not an API \
                inbox, or the message is not an agent's",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn update_status(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path((account_id, display_id, message_id)): Path<(i64, i64, i64)>,
    JsonBody(body): JsonBody<MessageStatusBody>,
) -> Result<Json<Value>, ApiError> {
    let conversation =
        visible_conversation(&state, &user, AccountId(account_id), display_id).await?;
    let status = match MessageStatus::parse(&body.status) {
        Ok(status @ (MessageStatus::Delivered | MessageStatus::Read | MessageStatus::Failed)) => {
            status
        }
        _ => {
            return Err(ApiError::Unprocessable(format!(
                "status `{}` is invalid; use delivered, read or failed",
                body.status
            )));
        }
    };
    let inbox = state.store.inbox(conversation.inbox_id).await?;
    if !inbox.is_some_and(|inbox| matches!(inbox.channel, Channel::Api(_))) {
        return Err(ApiError::Unprocessable(
            "delivery receipts are accepted for API inboxes only".into(),
        ));
    }
    let message = state.store.message(MessageId(message_id)).await?;
    let message = message
        .filter(|message| message.conversation_id == conversation.id)
        .ok_or_else(|| ApiError::NotFound("message".into()))?;
    if message.message_type != MessageType::Outgoing || message.private {
        return Err(ApiError::Unprocessable(
            "only an agent's reply has a delivery status".into(),
        ));
    }
    let report = StatusReport {
        source_id: message.source_id.clone().unwrap_or_default(),
        status,
        error: body
            .external_error
            .filter(|_| status == MessageStatus::Failed),
        at: None,
    };
    state
        .registry
        .ask_conversation(conversation.id, |reply| {
            ConversationMessage::ProviderStatus(message.id, report, reply)
        })
        .await??;
    let updated = state.store.message(message.id).await?;
    let updated = updated.ok_or_else(|| ApiError::NotFound("message".into()))?;
    let conversation = state.registry.snapshot(conversation.id).await?;
    let view = present::ConversationView::load(&state, &conversation).await?;
    Ok(Json(view.message(&state, &updated).await?))
}
