//! Inboxes and their members.

use crate::api::openapi::{self, params, schemas};
use crate::api::present;
use crate::auth::{CurrentUser, member_role, require_administrator};
use crate::error::{ApiError, JsonBody, Path};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_engine::channel::{ApiChannel, Channel, Inbox, WhatsappChannel, phone_digits};
use switchyard_engine::secret::Secret;
use switchyard_engine::{AccountId, InboxId, UserId};
use switchyard_storage::NewInbox;
use utoipa::ToSchema;

/// `POST /api/v1/accounts/{id}/inboxes` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewInboxBody {
    /// The inbox's name; must not be blank.
    name: String,
    /// The channel to connect.
    channel: ChannelBody,
    /// Whether new conversations are assigned to an available member.
    #[serde(default = "default_true")]
    #[schema(default = true)]
    enable_auto_assignment: bool,
    /// Whether a contact keeps one conversation instead of opening new ones.
    #[serde(default)]
    lock_to_single_conversation: bool,
}

fn default_true() -> bool {
    true
}

/// The `channel` object of an inbox creation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChannelBody {
    /// `api` or `whatsapp`.
    #[serde(rename = "type")]
    kind: String,
    /// API channels: where replies and events are posted, an http(s) URL; none when absent.
    #[serde(default)]
    webhook_url: Option<String>,
    /// API channels: the key of the `identifier_hash` identity check (not enforced yet);
    /// random when absent.
    #[serde(default)]
    hmac_token: Option<String>,
    /// WhatsApp channels: the business number; only its digits count.
    #[serde(default)]
    phone_number: Option<String>,
    /// WhatsApp channels: `whatsapp_cloud`, the only provider supported, when absent.
    #[serde(default)]
    provider: Option<String>,
    /// WhatsApp channels: required.
    #[serde(default)]
    provider_config: Option<WhatsappConfigBody>,
}

/// WhatsApp Cloud's `provider_config`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WhatsappConfigBody {
    /// The Graph API access token replies are sent with; must not be empty.
    api_key: String,
    /// Meta's id for the business number; must not be empty.
    phone_number_id: String,
    /// Meta's id for the business account.
    #[serde(default)]
    business_account_id: String,
    /// The token Meta's subscription check must present; random when absent.
    #[serde(default)]
    webhook_verify_token: Option<String>,
    /// The app secret Meta signs webhooks with; required.
    #[serde(default)]
    app_secret: String,
}

/// Creates an inbox (administrators only).
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{account_id}/inboxes",
    operation_id = "create_inbox",
    tag = "Inboxes",
    security(("userApiKey" = [])),
    params(params::AccountPath),
    request_body = NewInboxBody,
    responses(
        (status = 200, description = "The new inbox", body = schemas::Inbox),
        (status = 400, description = openapi::NOT_JSON_OR_BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (status = 403, description = openapi::NOT_ADMINISTRATOR, body = schemas::ErrorBody),
        (
            status = 409,
            description = "The API identifier or the WhatsApp number is already connected to an \
                inbox",
            body = schemas::ErrorBody
        ),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (status = 415, description = openapi::NOT_JSON_TYPE, body = schemas::ErrorBody),
        (
            status = 422,
            description = "A field is missing or of the wrong type, the name is blank, or the \
                channel is unsupported or incomplete",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn create(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path(account_id): Path<i64>,
    JsonBody(body): JsonBody<NewInboxBody>,
) -> Result<Json<Value>, ApiError> {
    let account = AccountId(account_id);
    require_administrator(&state, &user, account).await?;
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::Unprocessable("name must not be empty".into()));
    }
    let channel = channel(body.channel)?;
    let new = NewInbox {
        account_id: account,
        name: name.to_owned(),
        enable_auto_assignment: body.enable_auto_assignment,
        lock_to_single_conversation: body.lock_to_single_conversation,
        channel,
    };
    let inbox = state.store.create_inbox(&new).await?;
    Ok(Json(present::inbox(&inbox)))
}

fn channel(body: ChannelBody) -> Result<Channel, ApiError> {
    match body.kind.as_str() {
        "api" => Ok(Channel::Api(ApiChannel {
            identifier: random_token(24),
            webhook_url: validated_url(body.webhook_url.unwrap_or_default())?,
            hmac_token: Secret::new(body.hmac_token.unwrap_or_else(|| random_token(24))),
        })),
        "whatsapp" => whatsapp_channel(body),
        other => Err(ApiError::Unprocessable(format!(
            "channel type `{other}` is not supported; supported: api, whatsapp"
        ))),
    }
}

fn whatsapp_channel(body: ChannelBody) -> Result<Channel, ApiError> {
    let provider = body.provider.as_deref().unwrap_or("whatsapp_cloud");
    if provider != "whatsapp_cloud" {
        return Err(ApiError::Unprocessable(format!(
            "WhatsApp provider `{provider}` is not supported; supported: whatsapp_cloud"
        )));
    }
    let phone_number = phone_digits(body.phone_number.as_deref().unwrap_or_default());
    if phone_number.len() < 6 {
        return Err(ApiError::Unprocessable(
            "channel.phone_number must be a phone number".into(),
        ));
    }
    let config = body.provider_config.ok_or_else(|| {
        ApiError::Unprocessable("channel.provider_config is required for WhatsApp".into())
    })?;
    if config.api_key.is_empty()
        || config.phone_number_id.is_empty()
        || config.app_secret.is_empty()
    {
        return Err(ApiError::Unprocessable(
            "provider_config needs api_key, phone_number_id and app_secret".into(),
        ));
    }
    Ok(Channel::Whatsapp(WhatsappChannel {
        phone_number,
        phone_number_id: config.phone_number_id,
        business_account_id: config.business_account_id,
        api_key: Secret::new(config.api_key),
        webhook_verify_token: Secret::new(
            config
                .webhook_verify_token
                .unwrap_or_else(|| random_token(16)),
        ),
        app_secret: Secret::new(config.app_secret),
    }))
}

fn validated_url(url: String) -> Result<String, ApiError> {
    if url.is_empty() {
        return Ok(url);
    }
    let usable = reqwest::Url::parse(&url)
        .is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some());
    if usable {
        Ok(url)
    } else {
        Err(ApiError::Unprocessable(format!(
            "webhook_url `{}` must be an absolute http(s) URL",
            url.escape_debug()
        )))
    }
}

/// A random alphanumeric token.
pub fn random_token(length: usize) -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}

/// Lists the account's inboxes (agents see the inboxes they are members of).
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/inboxes",
    operation_id = "list_inboxes",
    tag = "Inboxes",
    security(("userApiKey" = [])),
    params(params::AccountPath),
    responses(
        (
            status = 200,
            description = "Every inbox for administrators; for agents, the inboxes they are \
                members of",
            body = schemas::InboxList
        ),
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
    let visible = visible_inboxes(&state, &user, account).await?;
    let inboxes = state.store.inboxes(account).await?;
    let payload: Vec<Value> = inboxes
        .iter()
        .filter(|inbox| visible.as_ref().is_none_or(|ids| ids.contains(&inbox.id)))
        .map(present::inbox)
        .collect();
    Ok(Json(json!({ "payload": payload })))
}

/// Shows one inbox.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/inboxes/{inbox_id}",
    operation_id = "show_inbox",
    tag = "Inboxes",
    security(("userApiKey" = [])),
    params(params::InboxPath),
    responses(
        (status = 200, description = "The inbox", body = schemas::Inbox),
        (status = 400, description = openapi::BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (
            status = 404,
            description = "No such inbox in the account, or an agent is not a member of it",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn show(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path((account_id, inbox_id)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let inbox = visible_inbox(&state, &user, AccountId(account_id), InboxId(inbox_id)).await?;
    Ok(Json(present::inbox(&inbox)))
}

/// The inboxes a user may see in an account; `None` means all (administrators).
pub async fn visible_inboxes(
    state: &AppState,
    user: &switchyard_storage::User,
    account: AccountId,
) -> Result<Option<Vec<InboxId>>, ApiError> {
    match member_role(state, user, account).await? {
        switchyard_engine::user::Role::Administrator => Ok(None),
        switchyard_engine::user::Role::Agent => {
            Ok(Some(state.store.inboxes_of_member(account, user.id).await?))
        }
    }
}

/// An inbox of the account that the user may see.
pub async fn visible_inbox(
    state: &AppState,
    user: &switchyard_storage::User,
    account: AccountId,
    inbox: InboxId,
) -> Result<Inbox, ApiError> {
    let visible = visible_inboxes(state, user, account).await?;
    let inbox = state
        .store
        .inbox(inbox)
        .await?
        .filter(|inbox| inbox.account_id == account);
    inbox
        .filter(|inbox| visible.as_ref().is_none_or(|ids| ids.contains(&inbox.id)))
        .ok_or_else(|| ApiError::NotFound("inbox".into()))
}

/// `POST /api/v1/accounts/{id}/inbox_members` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MembersBody {
    /// The inbox.
    inbox_id: i64,
    /// The users to add; each must be a member of the account.
    user_ids: Vec<i64>,
}

/// Adds agents to an inbox (administrators only). Every user must belong to the account.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{account_id}/inbox_members",
    operation_id = "add_inbox_members",
    tag = "Inboxes",
    security(("userApiKey" = [])),
    params(params::AccountPath),
    request_body = MembersBody,
    responses(
        (
            status = 200,
            description = "The inbox's members after the change",
            body = schemas::AgentList
        ),
        (status = 400, description = openapi::NOT_JSON_OR_BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (status = 403, description = openapi::NOT_ADMINISTRATOR, body = schemas::ErrorBody),
        (status = 404, description = "No such inbox in the account", body = schemas::ErrorBody),
        (status = 413, description = openapi::TOO_LARGE, body = schemas::ErrorBody),
        (status = 415, description = openapi::NOT_JSON_TYPE, body = schemas::ErrorBody),
        (
            status = 422,
            description = "A field is missing or of the wrong type, or a user is not a member of \
                the account",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn add_members(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path(account_id): Path<i64>,
    JsonBody(body): JsonBody<MembersBody>,
) -> Result<Json<Value>, ApiError> {
    let account = AccountId(account_id);
    require_administrator(&state, &user, account).await?;
    let inbox = visible_inbox(&state, &user, account, InboxId(body.inbox_id)).await?;
    let mut members = Vec::with_capacity(body.user_ids.len());
    for id in body.user_ids {
        let id = UserId(id);
        if state.store.role_of(account, id).await?.is_none() {
            return Err(ApiError::Unprocessable(format!(
                "user {id} is not a member of this account"
            )));
        }
        members.push(id);
    }
    state.store.add_inbox_members(inbox.id, &members).await?;
    state.registry.inbox_members_changed(inbox.id).await;
    state.registry.bus().refresh_visibility(account);
    members_payload(&state, account, inbox.id).await
}

/// Lists an inbox's members.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/inbox_members/{inbox_id}",
    operation_id = "list_inbox_members",
    tag = "Inboxes",
    security(("userApiKey" = [])),
    params(params::InboxPath),
    responses(
        (status = 200, description = "The inbox's members", body = schemas::AgentList),
        (status = 400, description = openapi::BAD_PATH_ID, body = schemas::ErrorBody),
        (status = 401, description = openapi::NO_MEMBER_TOKEN, body = schemas::ErrorBody),
        (
            status = 404,
            description = "No such inbox in the account, or an agent is not a member of it",
            body = schemas::ErrorBody
        ),
        (status = 503, description = openapi::UNAVAILABLE, body = schemas::ErrorBody),
    )
)]
pub async fn list_members(
    CurrentUser(user): CurrentUser,
    State(state): State<AppState>,
    Path((account_id, inbox_id)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let account = AccountId(account_id);
    let inbox = visible_inbox(&state, &user, account, InboxId(inbox_id)).await?;
    members_payload(&state, account, inbox.id).await
}

async fn members_payload(
    state: &AppState,
    account: AccountId,
    inbox: InboxId,
) -> Result<Json<Value>, ApiError> {
    let mut payload = Vec::new();
    for id in state.store.inbox_members(inbox).await? {
        let (Some(member), Some(role)) = (
            state.store.user(id).await?,
            state.store.role_of(account, id).await?,
        ) else {
            continue;
        };
        let availability = state.registry.availability(id).as_str();
        payload.push(present::agent(&member, role, availability));
    }
    Ok(Json(json!({ "payload": payload })))
}
