//! Messages and their enumerations, numbered as Chatwoot numbers them.

use crate::{AccountId, ContactId, ConversationId, InboxId, MessageId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// The longest message content accepted, in characters (Chatwoot's limit).
pub const MAX_CONTENT_CHARS: usize = 150_000;

/// Text as every backend can store it: NUL characters, which PostgreSQL refuses in text,
/// become U+FFFD (the replacement character) on every backend alike, so a customer message
/// carrying one is stored rather than refused.
pub fn storable_text(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    }
}

/// An input value that is not one of an enumeration's names.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("`{value}` is not a valid {kind}; expected one of: {expected}")]
pub struct UnknownVariant {
    /// Which enumeration was being parsed.
    pub kind: &'static str,
    /// The value received.
    pub value: String,
    /// The accepted names, comma separated.
    pub expected: &'static str,
}

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($(#[$vdoc:meta])* $variant:ident = $code:literal => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The integer Chatwoot stores and shows in REST and realtime payloads.
            pub fn code(self) -> i64 {
                match self { $($name::$variant => $code),+ }
            }

            /// The name Chatwoot shows in webhooks and accepts in requests.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads the stored integer back.
            pub fn from_code(code: i64) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// Parses the name, as a request carries it.
            pub fn parse(text: &str) -> Result<Self, UnknownVariant> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant {
                        kind: $kind,
                        value: text.to_owned(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }
    };
}

named_enum!(
    /// Who a message is from, seen from the contact center.
    MessageType, "message_type", {
        /// From the customer.
        Incoming = 0 => "incoming",
        /// From an agent (or a bot) to the customer, or a private note.
        Outgoing = 1 => "outgoing",
        /// A system line in the conversation ("Assigned to ...").
        Activity = 2 => "activity",
        /// A provider template message.
        Template = 3 => "template",
    }
);

named_enum!(
    /// How a message's content is to be read.
    ContentType, "content_type", {
        /// Plain text.
        Text = 0 => "text",
        /// A one-line input prompt.
        InputText = 1 => "input_text",
        /// A multi-line input prompt.
        InputTextarea = 2 => "input_textarea",
        /// An e-mail input prompt.
        InputEmail = 3 => "input_email",
        /// A choice prompt.
        InputSelect = 4 => "input_select",
        /// Cards.
        Cards = 5 => "cards",
        /// A form.
        Form = 6 => "form",
        /// A help-center article.
        Article = 7 => "article",
        /// An inbound e-mail.
        IncomingEmail = 8 => "incoming_email",
        /// A satisfaction survey.
        InputCsat = 9 => "input_csat",
        /// An integration's message.
        Integrations = 10 => "integrations",
        /// A sticker.
        Sticker = 11 => "sticker",
    }
);

named_enum!(
    /// Where a message is in its delivery.
    MessageStatus, "message status", {
        /// Stored, and for outgoing messages handed to the provider.
        Sent = 0 => "sent",
        /// The provider reports it delivered.
        Delivered = 1 => "delivered",
        /// The provider reports it read.
        Read = 2 => "read",
        /// Delivery failed for good.
        Failed = 3 => "failed",
    }
);

impl MessageStatus {
    /// Whether a provider report of `next` may replace this status. Reports can arrive out of
    /// order (a `read` before its `delivered`); a status never moves backwards, and `failed` is
    /// final except that a later `read`/`delivered` proves the message arrived after all.
    pub fn may_advance_to(self, next: MessageStatus) -> bool {
        use MessageStatus::*;
        match (self, next) {
            (current, next) if current == next => false,
            (Sent, _) => true,
            (Delivered, Read | Failed) => true,
            (Failed, Delivered | Read) => true,
            _ => false,
        }
    }
}

named_enum!(
    /// The kind of an attachment.
    FileType, "file_type", {
        /// A picture.
        Image = 0 => "image",
        /// Sound, including voice notes.
        Audio = 1 => "audio",
        /// A video.
        Video = 2 => "video",
        /// Any other file.
        File = 3 => "file",
        /// A shared location.
        Location = 4 => "location",
        /// Something the channel could not express otherwise.
        Fallback = 5 => "fallback",
        /// A share.
        Share = 6 => "share",
        /// A story mention.
        StoryMention = 7 => "story_mention",
        /// A shared contact card.
        Contact = 8 => "contact",
        /// An Instagram reel.
        IgReel = 9 => "ig_reel",
    }
);

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sender {
    /// The customer.
    Contact(ContactId),
    /// An agent.
    User(UserId),
    /// The system (activity messages).
    System,
}

/// A file, location or contact card carried by a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// What kind of attachment it is.
    pub file_type: FileType,
    /// Where the file can be fetched, when the provider gave a URL.
    #[serde(default)]
    pub data_url: Option<String>,
    /// The provider's media id, when it gave an id to download by instead of a URL.
    #[serde(default)]
    pub provider_media_id: Option<String>,
    /// The MIME type, when known.
    #[serde(default)]
    pub content_type: Option<String>,
    /// The original file name, when known.
    #[serde(default)]
    pub file_name: Option<String>,
    /// Latitude of a location.
    #[serde(default)]
    pub coordinates_lat: Option<f64>,
    /// Longitude of a location.
    #[serde(default)]
    pub coordinates_long: Option<f64>,
    /// A title to show instead (a location's name, a contact's name).
    #[serde(default)]
    pub fallback_title: Option<String>,
    /// Extra structured data (a contact card's phones).
    #[serde(default)]
    pub meta: Value,
}

impl Attachment {
    /// An attachment of the given kind with nothing else known yet.
    pub fn new(file_type: FileType) -> Self {
        Attachment {
            file_type,
            data_url: None,
            provider_media_id: None,
            content_type: None,
            file_name: None,
            coordinates_lat: None,
            coordinates_long: None,
            fallback_title: None,
            meta: Value::Null,
        }
    }
}

/// A stored message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The message id.
    pub id: MessageId,
    /// The owning account.
    pub account_id: AccountId,
    /// The inbox.
    pub inbox_id: InboxId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Who it is from, seen from the contact center.
    pub message_type: MessageType,
    /// How to read the content.
    pub content_type: ContentType,
    /// The text, if any.
    pub content: Option<String>,
    /// Structured extras (`in_reply_to`, `external_error`, `deleted`, ...).
    pub content_attributes: Value,
    /// Whether it is a private note (never sent to the customer).
    pub private: bool,
    /// Delivery status.
    pub status: MessageStatus,
    /// The provider's id for the message, once known.
    pub source_id: Option<String>,
    /// Who wrote it.
    pub sender: Sender,
    /// The client's own id for an optimistic send, echoed back in events.
    pub echo_id: Option<String>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// When it was written: the provider's timestamp for inbound messages.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}
