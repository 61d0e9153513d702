//! Contacts (customers) and their identities on each inbox.

use crate::{AccountId, ContactId, InboxId, Timestamp};
use serde_json::Value;
use thiserror::Error;

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
    /// The integrator's own identifier for the customer, if given.
    pub identifier: Option<String>,
    /// Provider-specific attributes to keep on the contact.
    pub additional_attributes: Value,
}

/// An e-mail address that has passed a plausibility check, normalized to lower case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

/// Why a string is not accepted as an e-mail address.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("`{0}` is not a valid e-mail address")]
pub struct InvalidEmail(pub String);

impl EmailAddress {
    /// Checks the shape `local@domain.tld` (no spaces, one `@`) and lower-cases it. Whether
    /// the mailbox exists is not checked.
    pub fn parse(text: &str) -> Result<Self, InvalidEmail> {
        let address = text.trim().to_lowercase();
        let plausible = match address.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.split('.').filter(|label| !label.is_empty()).count() >= 2
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !address.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if plausible {
            Ok(EmailAddress(address))
        } else {
            Err(InvalidEmail(text.to_owned()))
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_addresses_are_accepted_in_lower_case() {
        let address = EmailAddress::parse(" Grace@Example.COM ").map(EmailAddress::into_string);

        assert_eq!(address, Ok("grace@example.com".to_owned()));
    }

    #[test]
    fn implausible_addresses_are_refused() {
        for text in [
            "nope",
            "@example.com",
            "a@b",
            "a@@example.com",
            "a b@example.com",
            "a@.com",
        ] {
            assert!(EmailAddress::parse(text).is_err(), "{text}");
        }
    }
}
