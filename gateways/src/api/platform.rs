//! The Platform API: provisioning accounts, users and memberships.
//!
//! LIMITATION: Chatwoot limits a platform app to the objects it created; here the one
//! platform token may manage every account and user.

use crate::api::present;
use crate::auth::PlatformCaller;
use crate::error::{ApiError, JsonBody};
use crate::state::AppState;
use argon2::password_hash::{PasswordHasher, SaltString};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_engine::user::Role;
use switchyard_engine::{AccountId, UserId};
use switchyard_storage::NewUser;

/// `POST /platform/api/v1/accounts` body.
#[derive(Debug, Deserialize)]
pub struct NewAccountBody {
    name: String,
    #[serde(default)]
    locale: Option<String>,
}

/// Creates an account.
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
#[derive(Debug, Deserialize)]
pub struct NewUserBody {
    name: String,
    email: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

/// The shortest password accepted.
const MIN_PASSWORD_CHARS: usize = 8;

/// Creates a user; the response carries the user's `access_token`.
pub async fn create_user(
    _: PlatformCaller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewUserBody>,
) -> Result<Json<Value>, ApiError> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::Unprocessable("name must not be empty".into()));
    }
    let email = body.email.trim().to_lowercase();
    if !is_plausible_email(&email) {
        return Err(ApiError::Unprocessable(format!(
            "`{email}` is not a valid e-mail address"
        )));
    }
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
#[derive(Debug, Deserialize)]
pub struct AccountUserBody {
    user_id: i64,
    role: String,
}

/// Makes a user a member of an account.
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

fn is_plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !email.contains(' '),
        None => false,
    }
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
