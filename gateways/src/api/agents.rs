//! An account's agents.

use crate::api::openapi::{self, params, schemas};
use crate::api::present;
use crate::auth::{CurrentUser, member_role};
use crate::error::{ApiError, Path};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde_json::Value;
use switchyard_engine::AccountId;

/// `GET /api/v1/accounts/{account_id}/agents`: every member of the account with their role
/// and availability, as Chatwoot lists them (a bare array).
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/agents",
    operation_id = "list_agents",
    tag = "Agents",
    security(("userApiKey" = [])),
    params(params::AccountPath),
    responses(
        (status = 200, description = "The account's agents", body = Vec<schemas::Agent>),
        (status = 400, description = openapi::BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn list(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path(account_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let account = AccountId(account_id);
    member_role(&state, &user, account).await?;
    let mut agents = Vec::new();
    for membership in state.store.account_users(account).await? {
        let Some(agent) = state.store.user(membership.user_id).await? else {
            continue;
        };
        let availability = state.registry.availability(agent.id).as_str();
        agents.push(present::agent(&agent, membership.role, availability));
    }
    Ok(Json(Value::Array(agents)))
}
