//! Inboxes and the channel each one is connected to.

use crate::secret::Secret;
use crate::{AccountId, InboxId};
use serde::{Deserialize, Serialize};

/// An inbox: where one channel's conversations land, with its routing settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Inbox {
    /// The inbox id.
    pub id: InboxId,
    /// The owning account.
    pub account_id: AccountId,
    /// The name agents see.
    pub name: String,
    /// Whether new conversations are assigned to an online member automatically.
    pub enable_auto_assignment: bool,
    /// Whether a returning customer's resolved conversation is reopened instead of a new one
    /// being started.
    pub lock_to_single_conversation: bool,
    /// The channel behind the inbox.
    pub channel: Channel,
}

/// The kinds of channel. The string forms are Chatwoot's `channel_type` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// The API channel: messages come through the Client API, replies go to a webhook URL.
    Api,
    /// WhatsApp through Meta's Cloud API.
    Whatsapp,
}

impl ChannelKind {
    /// Chatwoot's class name for the channel, shown as `channel_type` and `meta.channel`.
    pub fn chatwoot_type(self) -> &'static str {
        match self {
            ChannelKind::Api => "Channel::Api",
            ChannelKind::Whatsapp => "Channel::Whatsapp",
        }
    }
}

/// A channel's connection settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Channel {
    /// The API channel.
    Api(ApiChannel),
    /// A WhatsApp Cloud number.
    Whatsapp(WhatsappChannel),
}

impl Channel {
    /// Which kind of channel this is.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Channel::Api(_) => ChannelKind::Api,
            Channel::Whatsapp(_) => ChannelKind::Whatsapp,
        }
    }
}

/// Settings of an API channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiChannel {
    /// The public identifier used in Client API paths.
    pub identifier: String,
    /// Where agent replies and conversation events are POSTed; empty for none.
    pub webhook_url: String,
    /// The key for the optional `identifier_hash` identity check.
    pub hmac_token: Secret,
}

/// Settings of a WhatsApp Cloud channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WhatsappChannel {
    /// The business phone number, digits only, as Meta shows `display_phone_number`.
    pub phone_number: String,
    /// Meta's id for the number, used in the send URL and checked on inbound payloads.
    pub phone_number_id: String,
    /// The WhatsApp Business Account id.
    pub business_account_id: String,
    /// The Bearer token for Meta's Graph API.
    pub api_key: Secret,
    /// The token Meta echoes back when verifying the webhook.
    pub webhook_verify_token: Secret,
    /// The app secret that signs webhook bodies (`X-Hub-Signature-256`).
    pub app_secret: Secret,
}

/// Normalizes a phone number to the digits Meta uses (`+1 555-0100` becomes `15550100`).
pub fn phone_digits(phone_number: &str) -> String {
    phone_number.chars().filter(char::is_ascii_digit).collect()
}
