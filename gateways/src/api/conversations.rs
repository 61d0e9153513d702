//! Conversations: listing, showing, assigning, changing status.

use crate::api::inboxes::visible_inboxes;
use crate::api::openapi::{self, params, schemas};
use crate::api::present;
use crate::auth::{CurrentUser, member_role};
use crate::error::{ApiError, JsonBody, OptionalJsonBody, Path, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_engine::conversation::{Conversation, ConversationStatus};
use switchyard_engine::{AccountId, InboxId, UserId};
use switchyard_storage::{AssigneeFilter, ConversationPage, ConversationQuery, User};
use utoipa::{IntoParams, ToSchema};

/// Conversations per page, as in Chatwoot.
const PER_PAGE: u32 = 25;

/// `GET /conversations` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open` (when absent), `resolved`, `pending`, `snoozed` or `all`.
    #[serde(default)]
    status: Option<String>,
    /// `all` (when absent), `me`, `unassigned` or `assigned`.
    #[serde(default)]
    assignee_type: Option<String>,
    /// Only this inbox's conversations.
    #[serde(default)]
    inbox_id: Option<i64>,
    /// The page, from 1, 25 conversations a page.
    #[serde(default)]
    page: Option<u32>,
}

/// Lists conversations with Chatwoot's filters and counts.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/conversations",
    operation_id = "list_conversations",
    tag = "Conversations",
    security(("userApiKey" = [])),
    params(params::AccountPath, ListQuery),
    responses(
        (
            status = 200,
            description = "A page of the conversations the user may see, most recently active \
                first",
            body = schemas::ConversationList
        ),
        (
            status = 400,
            description = "A path id or a query value is not a number, or the status or assignee \
                type is unknown",
            body = schemas::ErrorBody
        ),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
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
    Path(account_id): Path<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let request = listing(&state, &user, AccountId(account_id), &query, PER_PAGE).await?;
    let page = state.store.list_conversations(&request).await?;
    let mut payload = Vec::with_capacity(page.conversations.len());
    for conversation in &page.conversations {
        payload.push(present::conversation(&state, conversation).await?);
    }
    Ok(Json(
        json!({ "data": { "meta": counts(&page), "payload": payload } }),
    ))
}

/// The counts of `GET /conversations` without the conversations, as the dashboard asks for
/// them to fill its tabs.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/conversations/meta",
    operation_id = "conversation_counts",
    tag = "Conversations",
    security(("userApiKey" = [])),
    params(params::AccountPath, ListQuery),
    responses(
        (status = 200, description = "`{\"meta\": {mine_count, assigned_count, unassigned_count, all_count}}`"),
        (status = 400, description = "A path or query value is invalid", body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn meta(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path(account_id): Path<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let request = listing(&state, &user, AccountId(account_id), &query, 0).await?;
    let page = state.store.list_conversations(&request).await?;
    Ok(Json(json!({ "meta": counts(&page) })))
}

/// The storage query for a listing's filters, as the user may see it.
async fn listing(
    state: &AppState,
    user: &User,
    account: AccountId,
    query: &ListQuery,
    per_page: u32,
) -> Result<ConversationQuery, ApiError> {
    let visible_inboxes = visible_inboxes(state, user, account).await?;
    let status = match query.status.as_deref().unwrap_or("open") {
        "all" => None,
        other => Some(
            ConversationStatus::parse(other).map_err(|e| ApiError::BadRequest(e.to_string()))?,
        ),
    };
    let assignee = match query.assignee_type.as_deref().unwrap_or("all") {
        "all" => AssigneeFilter::All,
        "me" => AssigneeFilter::Me(user.id),
        "unassigned" => AssigneeFilter::Unassigned,
        "assigned" => AssigneeFilter::Assigned,
        other => {
            return Err(ApiError::BadRequest(format!(
                "assignee_type `{other}` is invalid; use me, unassigned, assigned or all"
            )));
        }
    };
    Ok(ConversationQuery {
        account_id: account,
        viewer: user.id,
        status,
        assignee,
        inbox_id: query.inbox_id.map(InboxId),
        visible_inboxes,
        page: query.page.unwrap_or(1).max(1),
        per_page,
    })
}

fn counts(page: &ConversationPage) -> Value {
    json!({
        "mine_count": page.mine_count,
        "assigned_count": page.assigned_count,
        "unassigned_count": page.unassigned_count,
        "all_count": page.all_count,
    })
}

/// Shows one conversation.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}",
    operation_id = "show_conversation",
    tag = "Conversations",
    security(("userApiKey" = [])),
    params(params::ConversationPath),
    responses(
        (status = 200, description = "The conversation", body = schemas::Conversation),
        (status = 400, description = openapi::BAD_PATH_ID),
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
pub async fn show(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path((account_id, display_id)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let conversation =
        visible_conversation(&state, &user, AccountId(account_id), display_id).await?;
    Ok(Json(present::conversation(&state, &conversation).await?))
}

/// A conversation of the account, by display id, that the user may see.
pub async fn visible_conversation(
    state: &AppState,
    user: &User,
    account: AccountId,
    display_id: i64,
) -> Result<Conversation, ApiError> {
    let visible = visible_inboxes(state, user, account).await?;
    let conversation = state
        .store
        .conversation_by_display_id(account, display_id)
        .await?;
    conversation
        .filter(|conversation| {
            visible
                .as_ref()
                .is_none_or(|ids| ids.contains(&conversation.inbox_id))
        })
        .ok_or_else(|| ApiError::NotFound("conversation".into()))
}

/// `POST …/assignments` body: `assignee_id` (null to unassign).
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignmentBody {
    /// The agent to assign, a member of the account; null or absent to unassign.
    #[serde(default)]
    assignee_id: Option<i64>,
    /// Refused without `assignee_id`: team assignment is not supported yet.
    #[serde(default)]
    team_id: Option<i64>,
}

/// Assigns a conversation to an agent of the account, or unassigns it.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/assignments",
    operation_id = "assign_conversation",
    tag = "Conversations",
    security(("userApiKey" = [])),
    params(params::ConversationPath),
    request_body = AssignmentBody,
    responses(
        (
            status = 200,
            description = "The new assignee, or null when the conversation was unassigned",
            body = Option<schemas::Agent>
        ),
        (status = 400, description = openapi::NOT_JSON_OR_BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (
            status = 404,
            description = "No such conversation visible to the user, or the assignee is not a \
                member of the account",
            body = schemas::ErrorBody
        ),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (status = 415, description = openapi::NOT_JSON_TYPE, body = schemas::ErrorBody),
        (
            status = 422,
            description = "A field is of the wrong type, or only a team was given",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn assign(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    JsonBody(body): JsonBody<AssignmentBody>,
) -> Result<Json<Value>, ApiError> {
    let account = AccountId(account_id);
    let conversation = visible_conversation(&state, &user, account, display_id).await?;
    if body.team_id.is_some() && body.assignee_id.is_none() {
        return Err(ApiError::Unprocessable(
            "team assignment is not supported yet".into(),
        ));
    }
    let agent = match body.assignee_id {
        Some(id) => Some(assignable_agent(&state, &conversation, UserId(id)).await?),
        None => None,
    };
    let summary = agent.as_ref().map(|(agent, _)| agent.summary());
    state.registry.assign(conversation.id, summary).await?;
    match agent {
        Some((agent, role)) => {
            let availability = state.registry.availability(agent.id).as_str();
            Ok(Json(present::agent(&agent, role, availability)))
        }
        None => Ok(Json(Value::Null)),
    }
}

/// An agent the conversation may be assigned to: an administrator of the account, or an agent
/// who is a member of the conversation's inbox (anyone else could not even see it).
async fn assignable_agent(
    state: &AppState,
    conversation: &Conversation,
    id: UserId,
) -> Result<(User, switchyard_engine::user::Role), ApiError> {
    use switchyard_engine::user::Role;
    let agent = state.store.user(id).await?;
    let role = state.store.role_of(conversation.account_id, id).await?;
    let (Some(agent), Some(role)) = (agent, role) else {
        return Err(ApiError::NotFound(format!("agent {id} in this account")));
    };
    if role == Role::Agent {
        let members = state.store.inbox_members(conversation.inbox_id).await?;
        if !members.contains(&id) {
            return Err(ApiError::Unprocessable(format!(
                "agent {id} is not a member of this conversation's inbox"
            )));
        }
    }
    Ok((agent, role))
}

/// `POST …/toggle_status` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ToggleStatusBody {
    /// `open`, `resolved`, `pending` or `snoozed`; when absent, an open conversation is
    /// resolved and any other is opened.
    #[serde(default)]
    status: Option<String>,
}

/// Sets the status; with none given, toggles between open and resolved.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/toggle_status",
    operation_id = "toggle_conversation_status",
    tag = "Conversations",
    security(("userApiKey" = [])),
    params(params::ConversationPath),
    request_body(
        content = Option<ToggleStatusBody>,
        description = "Optional: an empty body toggles between open and resolved"
    ),
    responses(
        (status = 200, description = "The status now", body = schemas::StatusChange),
        (status = 400, description = openapi::NOT_JSON_OR_BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (
            status = 404,
            description = "No such conversation in the account, or an agent is not a member of \
                its inbox",
            body = schemas::ErrorBody
        ),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (
            status = 422,
            description = "The status is not one of open, resolved, pending or snoozed",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn toggle_status(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    OptionalJsonBody(body): OptionalJsonBody<ToggleStatusBody>,
) -> Result<Json<Value>, ApiError> {
    let account = AccountId(account_id);
    member_role(&state, &user, account).await?;
    let conversation = visible_conversation(&state, &user, account, display_id).await?;
    let requested = body.status;
    let status = match requested.as_deref() {
        Some(status) => {
            ConversationStatus::parse(status).map_err(|e| ApiError::Unprocessable(e.to_string()))?
        }
        None if conversation.status == ConversationStatus::Open => ConversationStatus::Resolved,
        None => ConversationStatus::Open,
    };
    let updated = state.registry.set_status(conversation.id, status).await?;
    Ok(Json(json!({
        "meta": {},
        "payload": {
            "success": true,
            "conversation_id": updated.display_id,
            "current_status": updated.status.as_str(),
            "snoozed_until": null,
        }
    })))
}
