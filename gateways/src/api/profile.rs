//! The signed-in user's profile.

use crate::api::openapi::{self, schemas};
use crate::auth::CurrentUser;
use crate::error::{ApiError, JsonBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_engine::user::Availability;
use switchyard_storage::User;
use utoipa::ToSchema;

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
    profile(&state, &user).await
}

/// The profile JSON of a user.
async fn profile(state: &AppState, user: &User) -> Result<Json<Value>, ApiError> {
    let accounts = state.store.accounts_of_user(user.id).await?;
    let availability = state.registry.availability(user.id).as_str();
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

/// `POST /api/v1/profile/availability` body. Chatwoot's clients wrap it in `profile`; a bare
/// `availability` is accepted too.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AvailabilityBody {
    /// `{"availability": "online" | "busy" | "offline"}`.
    #[serde(default)]
    profile: Option<AvailabilityFields>,
    /// `online`, `busy` or `offline`.
    #[serde(default)]
    availability: Option<String>,
}

/// The `profile` object of an availability change.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AvailabilityFields {
    /// `online`, `busy` or `offline`.
    availability: String,
}

/// Sets the user's availability: while connected, only `online` agents are given new
/// conversations; `busy` and `offline` ones keep their conversations and get no new ones.
#[utoipa::path(
    post,
    path = "/api/v1/profile/availability",
    operation_id = "set_profile_availability",
    tag = "Profile",
    security(("userApiKey" = [])),
    request_body = AvailabilityBody,
    responses(
        (status = 200, description = "The profile, with the new availability", body = schemas::Profile),
        (status = 400, description = "The body is not JSON", body = schemas::ErrorBody),
        (status = 401, description = "No valid access token", body = schemas::ErrorBody),
        (status = 422, description = "The availability is not online, busy or offline", body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn set_availability(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<AvailabilityBody>,
) -> Result<Json<Value>, ApiError> {
    let requested = body
        .profile
        .map(|fields| fields.availability)
        .or(body.availability);
    let requested = requested.unwrap_or_default();
    let availability = Availability::parse(&requested).ok_or_else(|| {
        ApiError::Unprocessable(format!(
            "availability `{requested}` is invalid; use online, busy or offline"
        ))
    })?;
    state.registry.presence().choose(user.id, availability);
    profile(&state, &user).await
}
