//! The Platform API: provisioning accounts, users and memberships.
//!
//! LIMITATION: Chatwoot limits a platform app to the objects it created; here the one
//! platform token may manage every account and user.

use crate::api::openapi::{self, params, schemas};
use crate::api::present;
use crate::auth::PlatformCaller;
use crate::error::{ApiError, JsonBody, Path};
use crate::state::AppState;
use argon2::password_hash::{PasswordHasher, SaltString};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_engine::contact::EmailAddress;
use switchyard_engine::user::Role;
use switchyard_engine::{AccountId, UserId};
use switchyard_storage::NewUser;
use utoipa::ToSchema;

/// `POST /platform/api/v1/accounts` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAccountBody {
    /// The account's name; must not be blank.
    name: String,
    /// The locale; `en` when absent.
    #[serde(default)]
    locale: Option<String>,
}

/// Creates an account.
#[utoipa::path(
    post,
    path = "/platform/api/v1/accounts",
    tag = "Platform",
    security(("platformAppApiKey" = [])),
    request_body = NewAccountBody,
    responses(
        (status = 200, description = "The new account", body = schemas::Account),
        (status = 400, description = openapi::NOT_JSON, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_PLATFORM_TOKEN, body = schemas::ErrorBody),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (status = 415, description = openapi::NOT_JSON_TYPE, body = schemas::ErrorBody),
        (
            status = 422,
            description = "A field is missing or of the wrong type, or the name is blank",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn create_account(
    _: PlatformCaller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewAccountBody>,
) -> Result<Json<Value>, ApiError> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::Unprocessable("name must not be empty".into()));
    }
    let locale = body.locale.as_deref().unwrap_or("en");
    let account = state.store.create_account(name, locale).await?;
    Ok(Json(present::account(&account)))
}

/// Shows an account.
#[utoipa::path(
    get,
    path = "/platform/api/v1/accounts/{account_id}",
    tag = "Platform",
    security(("platformAppApiKey" = [])),
    params(params::AccountPath),
    responses(
        (status = 200, description = "The account", body = schemas::Account),
        (status = 400, description = openapi::BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_PLATFORM_TOKEN, body = schemas::ErrorBody),
        (status = 404, description = "No such account", body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn show_account(
    _: PlatformCaller,
    State(state): State<AppState>,
    Path(account_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let account = state.store.account(AccountId(account_id)).await?;
    let account = account.ok_or_else(|| ApiError::NotFound("account".into()))?;
    Ok(Json(present::account(&account)))
}

/// `POST /platform/api/v1/users` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserBody {
    /// The full name; must not be blank.
    name: String,
    /// The e-mail address, unique without regard to case.
    email: String,
    /// At least 8 characters, for signing in with a password; optional.
    #[serde(default)]
    password: Option<String>,
    /// The name shown to customers.
    #[serde(default)]
    display_name: Option<String>,
}

/// The shortest password accepted.
const MIN_PASSWORD_CHARS: usize = 8;

/// Creates a user; the response carries the user's `access_token`.
#[utoipa::path(
    post,
    path = "/platform/api/v1/users",
    tag = "Platform",
    security(("platformAppApiKey" = [])),
    request_body = NewUserBody,
    responses(
        (
            status = 200,
            description = "The new user, with their tokens",
            body = schemas::PlatformUser
        ),
        (status = 400, description = openapi::NOT_JSON, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_PLATFORM_TOKEN, body = schemas::ErrorBody),
        (status = 409, description = "The e-mail address is taken", body = schemas::ErrorBody),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (status = 415, description = openapi::NOT_JSON_TYPE, body = schemas::ErrorBody),
        (
            status = 422,
            description = "A field is missing or of the wrong type, the name is blank, the e-mail \
                address is not one, or the password is shorter than 8 characters",
            body = schemas::ErrorBody
        ),
        (status = 500, description = "The password could not be hashed", body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn create_user(
    _: PlatformCaller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewUserBody>,
) -> Result<Json<Value>, ApiError> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::Unprocessable("name must not be empty".into()));
    }
    let email = EmailAddress::parse(&body.email)
        .map_err(|error| ApiError::Unprocessable(error.to_string()))?
        .into_string();
    let password_hash = body.password.as_deref().map(hash_password).transpose()?;
    let new = NewUser {
        name: name.to_owned(),
        display_name: body.display_name,
        email,
        password_hash,
    };
    let user = state.store.create_user(&new).await?;
    Ok(Json(present::platform_user(&user)))
}

/// Shows a user.
#[utoipa::path(
    get,
    path = "/platform/api/v1/users/{user_id}",
    tag = "Platform",
    security(("platformAppApiKey" = [])),
    params(params::UserPath),
    responses(
        (status = 200, description = "The user, with their tokens", body = schemas::PlatformUser),
        (status = 400, description = openapi::BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_PLATFORM_TOKEN, body = schemas::ErrorBody),
        (status = 404, description = "No such user", body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn show_user(
    _: PlatformCaller,
    State(state): State<AppState>,
    Path(user_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let user = state.store.user(UserId(user_id)).await?;
    let user = user.ok_or_else(|| ApiError::NotFound("user".into()))?;
    Ok(Json(present::platform_user(&user)))
}

/// `POST /platform/api/v1/accounts/{id}/account_users` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AccountUserBody {
    /// The user to make a member.
    user_id: i64,
    /// `administrator` or `agent`; replaces the user's earlier role in the account.
    role: String,
}

/// Makes a user a member of an account.
#[utoipa::path(
    post,
    path = "/platform/api/v1/accounts/{account_id}/account_users",
    tag = "Platform",
    security(("platformAppApiKey" = [])),
    params(params::AccountPath),
    request_body = AccountUserBody,
    responses(
        (status = 200, description = "The membership", body = schemas::AccountUser),
        (status = 400, description = openapi::NOT_JSON_OR_BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_PLATFORM_TOKEN, body = schemas::ErrorBody),
        (status = 404, description = "No such account, or no such user", body = schemas::ErrorBody),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (status = 415, description = openapi::NOT_JSON_TYPE, body = schemas::ErrorBody),
        (
            status = 422,
            description = "A field is missing or of the wrong type, or the role is neither \
                administrator nor agent",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn add_account_user(
    _: PlatformCaller,
    State(state): State<AppState>,
    Path(account_id): Path<i64>,
    JsonBody(body): JsonBody<AccountUserBody>,
) -> Result<Json<Value>, ApiError> {
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::Unprocessable(format!(
            "role `{}` is invalid; use administrator or agent",
            body.role
        ))
    })?;
    let account = AccountId(account_id);
    state
        .store
        .account(account)
        .await?
        .ok_or_else(|| ApiError::NotFound("account".into()))?;
    let user = UserId(body.user_id);
    state
        .store
        .user(user)
        .await?
        .ok_or_else(|| ApiError::NotFound("user".into()))?;
    let membership = state.store.add_account_user(account, user, role).await?;
    Ok(Json(json!({
        "account_id": membership.account_id,
        "user_id": membership.user_id,
        "role": membership.role.as_str(),
    })))
}

/// Lists an account's members.
#[utoipa::path(
    get,
    path = "/platform/api/v1/accounts/{account_id}/account_users",
    tag = "Platform",
    security(("platformAppApiKey" = [])),
    params(params::AccountPath),
    responses(
        (
            status = 200,
            description = "The memberships by user id; none for an unknown account",
            body = Vec<schemas::AccountUser>
        ),
        (status = 400, description = openapi::BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_PLATFORM_TOKEN, body = schemas::ErrorBody),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn list_account_users(
    _: PlatformCaller,
    State(state): State<AppState>,
    Path(account_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let members = state.store.account_users(AccountId(account_id)).await?;
    let members: Vec<Value> = members
        .iter()
        .map(|member| {
            json!({ "account_id": member.account_id, "user_id": member.user_id, "role": member.role.as_str() })
        })
        .collect();
    Ok(Json(Value::Array(members)))
}

fn hash_password(password: &str) -> Result<String, ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::Unprocessable(format!(
            "password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|error| ApiError::Internal(format!("salt encoding failed: {error}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ApiError::Internal(format!("password hashing failed: {error}")))
}
