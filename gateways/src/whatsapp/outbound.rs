//! Sending a reply through the Cloud API: the request to build and how to read Meta's answer.
//!
//! The HTTP call itself belongs to the channel's deliverer, which owns the client, the token,
//! retries and rate limits; this module only knows Meta's formats, so it can be tested without
//! a network and shared with the benchmark's fake provider.

use serde::Deserialize;
use serde_json::{Value, json};
use thiserror::Error;

/// The Graph API version requests are sent to.
pub const GRAPH_API_VERSION: &str = "v22.0";

/// Meta's production Graph API; tests and fake providers pass their own base instead.
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com";

/// The longest text body Meta accepts, in characters. Longer replies must be split (or
/// refused) by the caller before they reach [`text_message_body`].
pub const MAX_TEXT_CHARS: usize = 4096;

/// Graph API error codes that mean "try again later": throttling (4, 17, 80007, 130429,
/// 131056) and transient failures on Meta's side (1, 2, 131000, 131016, 133004).
const RETRYABLE_CODES: [i64; 10] = [1, 2, 4, 17, 80007, 130429, 131000, 131016, 131056, 133004];

/// Why Meta did not accept a message, as read from its answer.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SendError {
    /// Meta answered with a Graph API error.
    #[error("WhatsApp refused the message: {message}")]
    Refused {
        /// The Graph API error code, when Meta gave one.
        code: Option<i64>,
        /// Meta's explanation, with its details when it gave any.
        message: String,
        /// Whether sending the same request later may succeed.
        retryable: bool,
    },
    /// The answer was neither a sent message's id nor a Graph API error. Whether the message
    /// went out is unknown, so it is not retried: a retry could send it twice.
    #[error("WhatsApp's answer could not be read: {reason}")]
    UnreadableResponse {
        /// What was wrong with the answer.
        reason: String,
    },
}

impl SendError {
    /// Whether sending the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SendError::Refused { retryable, .. } => *retryable,
            SendError::UnreadableResponse { .. } => false,
        }
    }
}

/// The JSON body that sends `content` as a text message to `to` (a WhatsApp id, the contact's
/// `source_id`), quoting the provider message `reply_to` when given.
pub fn text_message_body(to: &str, content: &str, reply_to: Option<&str>) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": { "body": content },
    });
    if let Some(message_id) = reply_to {
        body["context"] = json!({ "message_id": message_id });
    }
    body
}

/// The URL messages from the number `phone_number_id` are POSTed to, e.g.
/// `https://graph.facebook.com/v22.0/1122334455667/messages`.
pub fn send_url(api_base: &str, version: &str, phone_number_id: &str) -> String {
    let base = api_base.trim_end_matches('/');
    format!("{base}/{version}/{phone_number_id}/messages")
}

/// Whether an HTTP status from the Graph API is worth retrying: throttling (429) and server
/// errors (5xx) are; any other client error (4xx) will fail again the same way.
pub fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

/// Reads the answer to a send request: the provider id of the sent message (its `wamid`), or
/// why Meta refused it.
///
/// The HTTP status is the caller's to judge with [`is_retryable_status`]; this reads the body
/// whatever the status was, so a refusal's explanation is never lost.
pub fn parse_send_response(body: &[u8]) -> Result<String, SendError> {
    let response: SendResponse =
        serde_json::from_slice(body).map_err(|error| SendError::UnreadableResponse {
            reason: error.to_string(),
        })?;
    if let Some(error) = response.error {
        return Err(error.into_send_error());
    }
    response
        .messages
        .into_iter()
        .next()
        .and_then(|message| message.id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| SendError::UnreadableResponse {
            reason: "it has no `messages[0].id`".to_owned(),
        })
}

/// Meta's answer to a send request: the accepted messages, or an error.
#[derive(Deserialize)]
struct SendResponse {
    /// The accepted messages, one per request.
    #[serde(default)]
    messages: Vec<SentMessage>,
    /// The refusal, when there is one.
    error: Option<GraphError>,
}

/// One accepted message.
#[derive(Deserialize)]
struct SentMessage {
    /// Meta's id for it (`wamid....`).
    id: Option<String>,
}

/// A Graph API error object.
#[derive(Deserialize)]
struct GraphError {
    /// The human-readable explanation.
    message: Option<String>,
    /// The error code.
    code: Option<i64>,
    /// Meta's own verdict on whether a retry may succeed, when it gives one.
    is_transient: Option<bool>,
    /// WhatsApp-specific details.
    error_data: Option<GraphErrorData>,
}

/// The WhatsApp-specific part of a Graph API error.
#[derive(Deserialize)]
struct GraphErrorData {
    /// A longer explanation than the error's message.
    details: Option<String>,
}

impl GraphError {
    /// The refusal this error describes.
    fn into_send_error(self) -> SendError {
        let retryable = self.is_transient.unwrap_or_else(|| {
            self.code
                .is_some_and(|code| RETRYABLE_CODES.contains(&code))
        });
        let details = self.error_data.and_then(|data| data.details);
        let message = match (self.message, details) {
            (Some(message), Some(details)) if message != details => {
                format!("{message} ({details})")
            }
            (Some(message), _) => message,
            (None, Some(details)) => details,
            (None, None) => "no explanation given".to_owned(),
        };
        SendError::Refused {
            code: self.code,
            message,
            retryable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_reply_names_the_recipient_and_carries_the_body() {
        let body = text_message_body("972987654321", "Hello there", None);

        assert_eq!(
            body,
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "972987654321",
                "type": "text",
                "text": { "body": "Hello there" },
            })
        );
    }

    #[test]
    fn a_reply_to_a_message_quotes_it_in_the_context() {
        let body = text_message_body("972987654321", "Yes", Some("wamid.xyzxyz"));

        assert_eq!(body["context"], json!({ "message_id": "wamid.xyzxyz" }));
        assert_eq!(body["text"]["body"], "Yes");
    }

    #[test]
    fn the_send_url_joins_base_version_and_number() {
        let url = send_url(DEFAULT_API_BASE, GRAPH_API_VERSION, "1122334455667");

        assert_eq!(
            url,
            "https://graph.facebook.com/v22.0/1122334455667/messages"
        );
    }

    #[test]
    fn a_trailing_slash_on_the_base_is_not_doubled() {
        let url = send_url("http://127.0.0.1:8080//", "v22.0", "42");

        assert_eq!(url, "http://127.0.0.1:8080/v22.0/42/messages");
    }

    #[test]
    fn an_accepted_message_gives_its_provider_id() {
        let body = br#"{"messaging_product":"whatsapp",
            "contacts":[{"input":"972987654321","wa_id":"972987654321"}],
            "messages":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI=","message_status":"accepted"}]}"#;

        assert_eq!(
            parse_send_response(body),
            Ok("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI=".to_owned())
        );
    }

    #[test]
    fn a_refusal_carries_the_message_and_its_details_and_is_final() {
        let body = br#"{"error":{"message":"(#131030) Recipient phone number not in allowed list",
            "type":"OAuthException","code":131030,
            "error_data":{"messaging_product":"whatsapp","details":"Add it to the list"},
            "fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}"#;

        let error = parse_send_response(body).unwrap_err();

        assert_eq!(
            error,
            SendError::Refused {
                code: Some(131030),
                message: "(#131030) Recipient phone number not in allowed list \
                          (Add it to the list)"
                    .to_owned(),
                retryable: false,
            }
        );
        assert!(!error.is_retryable());
    }

    #[test]
    fn a_throttling_refusal_is_retryable() {
        let body = br#"{"error":{"message":"(#130429) Rate limit hit","code":130429}}"#;

        assert!(parse_send_response(body).unwrap_err().is_retryable());
    }

    #[test]
    fn metas_transient_flag_overrides_the_code() {
        let body = br#"{"error":{"message":"Please retry","code":100,"is_transient":true}}"#;

        assert!(parse_send_response(body).unwrap_err().is_retryable());
    }

    #[test]
    fn an_answer_that_is_not_json_is_unreadable_and_not_retried() {
        let error = parse_send_response(b"<html>Bad Gateway</html>").unwrap_err();

        assert!(matches!(error, SendError::UnreadableResponse { .. }));
        assert!(!error.is_retryable());
    }

    #[test]
    fn an_answer_without_a_message_id_is_unreadable() {
        let error = parse_send_response(br#"{"messages":[]}"#).unwrap_err();

        assert_eq!(
            error.to_string(),
            "WhatsApp's answer could not be read: it has no `messages[0].id`"
        );
    }

    #[test]
    fn throttling_and_server_errors_are_retryable_statuses_and_client_errors_are_not() {
        for status in [429, 500, 502, 503, 504, 599] {
            assert!(is_retryable_status(status), "{status} should be retryable");
        }
        for status in [200, 400, 401, 403, 404, 422, 600] {
            assert!(
                !is_retryable_status(status),
                "{status} should not be retryable"
            );
        }
    }
}
