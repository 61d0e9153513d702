//! Chatwoot's JSON shapes for REST responses that are not event payloads.

use crate::error::ApiError;
use crate::state::AppState;
use serde_json::{Value, json};
use std::collections::HashMap;
use switchyard_engine::UserId;
use switchyard_engine::channel::{Channel, Inbox};
use switchyard_engine::contact::{Contact, ContactInbox};
use switchyard_engine::conversation::Conversation;
use switchyard_engine::message::{Message, Sender};
use switchyard_engine::push;
use switchyard_engine::user::Role;
use switchyard_engine::user::UserSummary;
use switchyard_storage::{Account, User};

/// An account.
pub fn account(account: &Account) -> Value {
    json!({
        "id": account.id,
        "name": account.name,
        "locale": account.locale,
        "status": account.status,
        "domain": null,
        "support_email": null,
        "custom_attributes": {},
        "created_at": push::iso8601(account.created_at),
    })
}

/// A user as the Platform API shows it (with the access token: the platform created it).
pub fn platform_user(user: &User) -> Value {
    json!({
        "id": user.id,
        "name": user.name,
        "display_name": user.display_name,
        "email": user.email,
        "uid": user.email,
        "provider": "email",
        "access_token": user.access_token.expose(),
        "pubsub_token": user.pubsub_token,
        "confirmed": true,
        "custom_attributes": {},
        "created_at": push::iso8601(user.created_at),
    })
}

/// An agent as account listings show it.
pub fn agent(user: &User, role: Role, availability: &str) -> Value {
    json!({
        "id": user.id,
        "name": user.name,
        "available_name": user.display_name.as_deref().unwrap_or(&user.name),
        "display_name": user.display_name,
        "email": user.email,
        "role": role.as_str(),
        "confirmed": true,
        "availability_status": availability,
        "auto_offline": true,
        "thumbnail": "",
        "custom_attributes": {},
    })
}

/// An inbox. Secrets (API keys, app secrets) are never shown.
pub fn inbox(inbox: &Inbox) -> Value {
    let mut data = json!({
        "id": inbox.id,
        "account_id": inbox.account_id,
        "name": inbox.name,
        "channel_id": inbox.id,
        "channel_type": inbox.channel.kind().chatwoot_type(),
        "enable_auto_assignment": inbox.enable_auto_assignment,
        "lock_to_single_conversation": inbox.lock_to_single_conversation,
        "greeting_enabled": false,
        "greeting_message": null,
        "working_hours_enabled": false,
        "avatar_url": "",
        "allow_messages_after_resolved": true,
    });
    let fields = data
        .as_object_mut()
        .expect("a json! object literal is an object");
    match &inbox.channel {
        Channel::Api(api) => {
            fields.insert("inbox_identifier".into(), json!(api.identifier));
            fields.insert("webhook_url".into(), json!(api.webhook_url));
            fields.insert("hmac_mandatory".into(), json!(false));
        }
        Channel::Whatsapp(whatsapp) => {
            fields.insert(
                "phone_number".into(),
                json!(format!("+{}", whatsapp.phone_number)),
            );
            fields.insert("provider".into(), json!("whatsapp_cloud"));
            fields.insert(
                "provider_config".into(),
                json!({
                    "phone_number_id": whatsapp.phone_number_id,
                    "business_account_id": whatsapp.business_account_id,
                    "webhook_verify_token": whatsapp.webhook_verify_token.expose(),
                }),
            );
        }
    }
    data
}

/// A conversation with the contact its REST shapes show, read from storage once, so that a
/// page of messages costs one contact lookup and one lookup per distinct agent.
pub struct ConversationView<'a> {
    conversation: &'a Conversation,
    contact: Contact,
    contact_inbox: ContactInbox,
}

impl<'a> ConversationView<'a> {
    /// Reads the conversation's contact.
    pub async fn load(state: &AppState, conversation: &'a Conversation) -> Result<Self, ApiError> {
        let (contact, contact_inbox) = state
            .store
            .contact_inbox_by_id(conversation.contact_inbox_id)
            .await?
            .ok_or_else(|| ApiError::Internal("conversation without a contact".into()))?;
        Ok(ConversationView {
            conversation,
            contact,
            contact_inbox,
        })
    }

    /// The conversation as REST listings show it.
    pub async fn render(&self, state: &AppState) -> Result<Value, ApiError> {
        let store = &state.store;
        let inbox = store
            .inbox(self.conversation.inbox_id)
            .await?
            .ok_or_else(|| ApiError::Internal("conversation without an inbox".into()))?;
        let assignee = match self.conversation.assignee_id {
            Some(id) => store.user(id).await?.map(|user| user.summary()),
            None => None,
        };
        let last_message = match store.last_visible_message(self.conversation.id).await? {
            Some(last) => Some(self.message(state, &last).await?),
            None => None,
        };
        let context = push::ConversationContext {
            contact: &self.contact,
            contact_inbox: &self.contact_inbox,
            channel: inbox.channel.kind(),
            assignee: assignee.as_ref(),
            last_message: last_message.as_ref(),
            labels: &[],
        };
        Ok(push::conversation(self.conversation, context))
    }

    /// One of the conversation's messages as REST listings show it.
    pub async fn message(&self, state: &AppState, message: &Message) -> Result<Value, ApiError> {
        let mut agents = HashMap::new();
        self.message_with(state, message, &mut agents).await
    }

    /// Several of the conversation's messages, each agent read once.
    pub async fn messages(
        &self,
        state: &AppState,
        messages: &[Message],
    ) -> Result<Vec<Value>, ApiError> {
        let mut agents = HashMap::new();
        let mut rendered = Vec::with_capacity(messages.len());
        for message in messages {
            rendered.push(self.message_with(state, message, &mut agents).await?);
        }
        Ok(rendered)
    }

    async fn message_with(
        &self,
        state: &AppState,
        message: &Message,
        agents: &mut HashMap<UserId, Option<UserSummary>>,
    ) -> Result<Value, ApiError> {
        let agent = match message.sender {
            Sender::User(id) => match agents.get(&id) {
                Some(agent) => agent.clone(),
                None => {
                    let agent = state.store.user(id).await?.map(|user| user.summary());
                    agents.insert(id, agent.clone());
                    agent
                }
            },
            _ => None,
        };
        let context = push::MessageContext {
            conversation: self.conversation,
            contact_inbox: &self.contact_inbox,
            contact: &self.contact,
            agent: agent.as_ref(),
        };
        Ok(push::message(message, context))
    }
}

/// A conversation as REST listings show it, read from storage.
pub async fn conversation(
    state: &AppState,
    conversation: &Conversation,
) -> Result<Value, ApiError> {
    ConversationView::load(state, conversation)
        .await?
        .render(state)
        .await
}
