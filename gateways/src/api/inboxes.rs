//! Inboxes and their members.

use crate::api::present;
use crate::auth::{CurrentUser, member_role, require_administrator};
use crate::error::{ApiError, JsonBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_engine::channel::{ApiChannel, Channel, Inbox, WhatsappChannel, phone_digits};
use switchyard_engine::secret::Secret;
use switchyard_engine::{AccountId, InboxId, UserId};
use switchyard_storage::NewInbox;

/// `POST /api/v1/accounts/{id}/inboxes` body.
#[derive(Debug, Deserialize)]
pub struct NewInboxBody {
    name: String,
    channel: ChannelBody,
    #[serde(default = "default_true")]
    enable_auto_assignment: bool,
    #[serde(default)]
    lock_to_single_conversation: bool,
}

fn default_true() -> bool {
    true
}

/// The `channel` object of an inbox creation.
#[derive(Debug, Deserialize)]
pub struct ChannelBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    webhook_url: Option<String>,
    #[serde(default)]
    hmac_token: Option<String>,
    #[serde(default)]
    phone_number: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    provider_config: Option<WhatsappConfigBody>,
}

/// WhatsApp Cloud's `provider_config`.
#[derive(Debug, Deserialize)]
pub struct WhatsappConfigBody {
    api_key: String,
    phone_number_id: String,
    #[serde(default)]
    business_account_id: String,
    #[serde(default)]
    webhook_verify_token: Option<String>,
    #[serde(default)]
    app_secret: String,
}

/// Creates an inbox (administrators only).
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
    if url.is_empty() || url.starts_with("http://") || url.starts_with("https://") {
        Ok(url)
    } else {
        Err(ApiError::Unprocessable(format!(
            "webhook_url `{url}` must be an http(s) URL"
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
#[derive(Debug, Deserialize)]
pub struct MembersBody {
    inbox_id: i64,
    user_ids: Vec<i64>,
}

/// Adds agents to an inbox (administrators only). Every user must belong to the account.
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
        let availability = if state.registry.is_online(id) {
            "online"
        } else {
            "offline"
        };
        payload.push(present::agent(&member, role, availability));
    }
    Ok(Json(json!({ "payload": payload })))
}
