//! Contacts (customers) and their identities on each inbox.

use crate::{AccountId, ContactId, InboxId, Timestamp};
use serde_json::Value;

/// A customer within an account.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    /// The contact id.
    pub id: ContactId,
    /// The owning account.
    pub account_id: AccountId,
    /// The display name.
    pub name: String,
    /// An e-mail address, if known.
    pub email: Option<String>,
    /// A phone number in E.164 form, if known.
    pub phone_number: Option<String>,
    /// The integrator's own identifier for the customer, if given.
    pub identifier: Option<String>,
    /// Free-form attributes supplied by a channel.
    pub additional_attributes: Value,
    /// Attributes defined by the account.
    pub custom_attributes: Value,
    /// When the contact was created.
    pub created_at: Timestamp,
}

/// A contact's identity on one inbox: the WhatsApp id, the API channel's contact identifier...
#[derive(Clone, Debug, PartialEq)]
pub struct ContactInbox {
    /// The row id.
    pub id: i64,
    /// The contact.
    pub contact_id: ContactId,
    /// The inbox.
    pub inbox_id: InboxId,
    /// The provider's identity for the contact (unique within the inbox).
    pub source_id: String,
    /// The token a contact-side client subscribes to `/cable` with.
    pub pubsub_token: String,
}

/// What a channel knows about the customer behind an inbound message.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ContactProfile {
    /// The provider's identity (unique within the inbox).
    pub source_id: String,
    /// The display name, if the provider sent one.
    pub name: Option<String>,
    /// A phone number, if known.
    pub phone_number: Option<String>,
    /// An e-mail address, if known.
    pub email: Option<String>,
    /// Provider-specific attributes to keep on the contact.
    pub additional_attributes: Value,
}
