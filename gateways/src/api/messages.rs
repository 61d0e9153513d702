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
use switchyard_actors::conversation::OutgoingDraft;
use switchyard_engine::message::{ContentType, MAX_CONTENT_CHARS, MessageType};
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
