//! Signed WhatsApp Cloud webhooks, shaped like the ones Meta sends.
//!
//! Each request carries one inbound text message with a unique `wamid`, from one
//! of `contacts` customer numbers (request `n` comes from customer `n % contacts`),
//! so a run exercises contact resolution, conversation creation and the
//! per-conversation path, never deduplication. The body is signed with the app
//! secret exactly as Meta does: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::load::RequestSource;

type HmacSha256 = Hmac<Sha256>;

/// Where to send the webhooks and how to make them look like the inbox's.
pub(crate) struct WebhookSettings {
    /// Base URL of the server.
    pub(crate) target: String,
    /// The inbox's phone number, `+` and digits.
    pub(crate) phone: String,
    /// Meta's id of that number.
    pub(crate) phone_number_id: String,
    /// Meta's id of the WhatsApp Business Account.
    pub(crate) business_account_id: String,
    /// The Meta app secret the inbox verifies signatures with.
    pub(crate) app_secret: String,
    /// How many customer numbers to spread messages over.
    pub(crate) contacts: u64,
    /// Prefix making message ids unique across runs.
    pub(crate) run_id: String,
}

/// A prefix for message ids that differs between runs: the start time in milliseconds.
pub(crate) fn default_run_id() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default();
    millis.to_string()
}

/// Builds and signs webhook number `n`.
pub(crate) struct WebhookSource {
    url: String,
    settings: WebhookSettings,
    /// Keyed once; cloning a keyed MAC is cheaper than keying it per request.
    signer: HmacSha256,
}

impl WebhookSource {
    pub(crate) fn new(settings: WebhookSettings) -> anyhow::Result<Self> {
        anyhow::ensure!(settings.contacts > 0, "--contacts must be at least 1");
        anyhow::ensure!(
            settings.phone.starts_with('+') && settings.phone.len() > 1,
            "--phone must be in E.164 form, like +15550001111"
        );
        let signer = HmacSha256::new_from_slice(settings.app_secret.as_bytes())
            .context("keying HMAC-SHA256 with the app secret")?;
        let url = format!(
            "{}/webhooks/whatsapp/{}",
            settings.target.trim_end_matches('/'),
            settings.phone
        );
        Ok(Self {
            url,
            settings,
            signer,
        })
    }

    /// The JSON body of webhook `n`.
    fn body(&self, n: u64) -> Vec<u8> {
        let settings = &self.settings;
        let customer = format!("1999{:08}", n % settings.contacts);
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or_default();

        let payload = serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": settings.business_account_id,
                "changes": [{
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": settings.phone.trim_start_matches('+'),
                            "phone_number_id": settings.phone_number_id,
                        },
                        "contacts": [{
                            "profile": { "name": format!("Bench Customer {customer}") },
                            "wa_id": customer,
                        }],
                        "messages": [{
                            "from": customer,
                            "id": format!("wamid.bench.{}.{n}", settings.run_id),
                            "timestamp": timestamp.to_string(),
                            "text": { "body": format!("bench message {n}") },
                            "type": "text",
                        }],
                    },
                    "field": "messages",
                }],
            }],
        });
        payload.to_string().into_bytes()
    }

    /// `sha256=<hex>` over the exact bytes sent.
    fn signature(&self, body: &[u8]) -> String {
        let mut mac = self.signer.clone();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }
}

impl RequestSource for WebhookSource {
    fn request(&self, client: &reqwest::Client, n: u64) -> reqwest::RequestBuilder {
        let body = self.body(n);
        client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", self.signature(&body))
            .body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> WebhookSource {
        WebhookSource::new(WebhookSettings {
            target: "http://127.0.0.1:3000/".to_owned(),
            phone: "+15550001111".to_owned(),
            phone_number_id: "100000000000001".to_owned(),
            business_account_id: "200000000000001".to_owned(),
            app_secret: "secret".to_owned(),
            contacts: 3,
            run_id: "run".to_owned(),
        })
        .expect("valid settings")
    }

    #[test]
    fn webhooks_go_to_the_phone_numbers_route() {
        assert_eq!(
            source().url,
            "http://127.0.0.1:3000/webhooks/whatsapp/+15550001111"
        );
    }

    #[test]
    fn each_webhook_has_a_unique_message_id_and_a_customer_from_the_pool() {
        let source = source();

        let first: serde_json::Value = serde_json::from_slice(&source.body(1)).expect("json");
        let fourth: serde_json::Value = serde_json::from_slice(&source.body(4)).expect("json");

        let message = |value: &serde_json::Value| value["entry"][0]["changes"][0]["value"].clone();
        assert_eq!(message(&first)["messages"][0]["id"], "wamid.bench.run.1");
        assert_eq!(message(&fourth)["messages"][0]["id"], "wamid.bench.run.4");
        assert_eq!(
            message(&first)["messages"][0]["from"],
            message(&fourth)["messages"][0]["from"]
        );
        assert_eq!(
            message(&first)["metadata"]["display_phone_number"],
            "15550001111"
        );
    }

    #[test]
    fn the_signature_is_hex_hmac_sha256_of_the_body_with_the_app_secret() {
        // Known answer, from Python: hmac.new(b"secret", b"{}", hashlib.sha256).hexdigest()
        let expected = "sha256=77325902caca812dc259733aacd046b73817372c777b8d95b402647474516e13";

        assert_eq!(source().signature(b"{}"), expected);
    }
}
