//! The path parameters the routes share, written out once for the OpenAPI document.
//!
//! Handlers read these with `Path<i64>` or tuples; these structs only describe them, in the
//! order they appear in the paths.

use utoipa::IntoParams;

/// `{account_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountPath {
    /// The account's id.
    pub account_id: i64,
}

/// `{user_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The user's id.
    pub user_id: i64,
}

/// `{account_id}/…/{inbox_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InboxPath {
    /// The account's id.
    pub account_id: i64,
    /// The inbox's id.
    pub inbox_id: i64,
}

/// `{account_id}/conversations/{conversation_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ConversationPath {
    /// The account's id.
    pub account_id: i64,
    /// The conversation's display id (its `id` in JSON), numbered per account.
    pub conversation_id: i64,
}

/// `{account_id}`, `{conversation_id}` and `{message_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MessagePath {
    /// The account's id.
    pub account_id: i64,
    /// The conversation's display id (its `id` in JSON), numbered per account.
    pub conversation_id: i64,
    /// The message's id.
    pub message_id: i64,
}

/// `{inbox_identifier}` of the Client API.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PublicInboxPath {
    /// The API inbox's `inbox_identifier`.
    pub inbox_identifier: String,
}

/// `{inbox_identifier}/contacts/{contact_identifier}` of the Client API.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PublicContactPath {
    /// The API inbox's `inbox_identifier`.
    pub inbox_identifier: String,
    /// The contact's `source_id`, returned when the contact was created.
    pub contact_identifier: String,
}

/// `{inbox_identifier}/contacts/{contact_identifier}/conversations/{conversation_id}` of the
/// Client API.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PublicConversationPath {
    /// The API inbox's `inbox_identifier`.
    pub inbox_identifier: String,
    /// The contact's `source_id`, returned when the contact was created.
    pub contact_identifier: String,
    /// The conversation's display id.
    pub conversation_id: i64,
}

/// `{phone_number}` of the WhatsApp webhook.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WhatsappPath {
    /// The inbox's business number; only its digits count (`+972 12-345` is `97212345`).
    pub phone_number: String,
}
