//! The signed-in user's profile.

use crate::api::openapi::{self, schemas};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// `GET /api/v1/profile`: the user, their `pubsub_token` and their accounts.
#[utoipa::path(
    get,
    path = "/api/v1/profile",
    operation_id = "show_profile",
    tag = "Profile",
    security(("userApiKey" = [])),
    responses(
        (
            status = 200,
            description = "The user, their tokens and their accounts",
            body = schemas::Profile
        ),
        (status = 401, description = "No valid access token", body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn show(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let accounts = state.store.accounts_of_user(user.id).await?;
    let availability = if state.registry.is_online(user.id) {
        "online"
    } else {
        "offline"
    };
    let account_list: Vec<Value> = accounts
        .iter()
        .map(|(account, role)| {
            json!({
                "id": account.id,
                "name": account.name,
                "role": role.as_str(),
                "status": account.status,
                "availability": availability,
                "availability_status": availability,
                "auto_offline": true,
            })
        })
        .collect();
    let first = accounts.first();
    Ok(Json(json!({
        "id": user.id,
        "name": user.name,
        "display_name": user.display_name,
        "available_name": user.display_name.as_deref().unwrap_or(&user.name),
        "email": user.email,
        "uid": user.email,
        "provider": "email",
        "access_token": user.access_token.expose(),
        "pubsub_token": user.pubsub_token,
        "account_id": first.map(|(account, _)| account.id),
        "role": first.map(|(_, role)| role.as_str()),
        "accounts": account_list,
        "availability_status": availability,
        "confirmed": true,
        "avatar_url": "",
        "custom_attributes": {},
        "ui_settings": {},
    })))
}
