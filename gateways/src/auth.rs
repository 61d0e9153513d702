//! Who is calling: the `api_access_token` header, for users and for the Platform API.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use switchyard_engine::AccountId;
use switchyard_engine::user::Role;
use switchyard_storage::User;

/// The header every Chatwoot API client sends its token in.
pub const TOKEN_HEADER: &str = "api_access_token";

fn token(parts: &Parts) -> Result<&str, ApiError> {
    parts
        .headers
        .get(TOKEN_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("missing api_access_token header".into()))
}

/// A caller holding the Platform API token.
#[derive(Debug)]
pub struct PlatformCaller;

impl FromRequestParts<AppState> for PlatformCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let expected = &state.config.platform_token;
        if expected.is_empty() {
            return Err(ApiError::Unauthorized(
                "the Platform API is disabled: set SWITCHYARD_PLATFORM_TOKEN".into(),
            ));
        }
        let given = token(parts)?;
        if !constant_time_eq(given.as_bytes(), expected.expose().as_bytes()) {
            return Err(ApiError::Unauthorized("invalid platform token".into()));
        }
        Ok(PlatformCaller)
    }
}

/// A signed-in user.
#[derive(Debug)]
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = token(parts)?;
        let user = state.store.user_by_access_token(token).await?;
        user.map(CurrentUser)
            .ok_or_else(|| ApiError::Unauthorized("invalid access token".into()))
    }
}

/// Checks that the user belongs to the account; returns their role there.
pub async fn member_role(
    state: &AppState,
    user: &User,
    account: AccountId,
) -> Result<Role, ApiError> {
    state
        .store
        .role_of(account, user.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("you are not a member of this account".into()))
}

/// Checks that the user administers the account.
pub async fn require_administrator(
    state: &AppState,
    user: &User,
    account: AccountId,
) -> Result<(), ApiError> {
    match member_role(state, user, account).await? {
        Role::Administrator => Ok(()),
        Role::Agent => Err(ApiError::Forbidden(
            "only administrators may do this".into(),
        )),
    }
}

/// Compares secrets without leaking where they first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}
