//! Outbound provider clients: how a reply leaves on each channel, and how an API inbox's
//! notifications reach its `webhook_url`.
//!
//! - API channel: the reply is POSTed to the inbox's `webhook_url` as a `message_created`
//!   event, as Chatwoot does; so is every notification of the inbox's conversation and
//!   message events.
//! - WhatsApp Cloud: the reply is sent to Meta's `/{phone_number_id}/messages` with the
//!   inbox's Bearer token; Meta's message id becomes the message's `source_id`.

use crate::whatsapp::outbound;
use serde_json::Value;
use std::time::Duration;
use switchyard_actors::delivery::{
    Deliverer, DeliveryError, DeliveryFuture, DeliveryJob, ReplyJob,
};
use switchyard_engine::channel::{ApiChannel, Channel, WhatsappChannel};

/// How long one delivery attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Delivers replies over HTTP to each provider, and notifications to their webhook URLs.
#[derive(Clone, Debug)]
pub struct ProviderDeliverer {
    client: reqwest::Client,
    whatsapp_api_base: String,
}

impl ProviderDeliverer {
    /// A deliverer sending WhatsApp messages to `whatsapp_api_base` (Meta's Graph API host).
    pub fn new(whatsapp_api_base: String) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .build()?;
        Ok(ProviderDeliverer {
            client,
            whatsapp_api_base,
        })
    }

    async fn deliver_reply(&self, job: &ReplyJob) -> Result<Option<String>, DeliveryError> {
        match &job.inbox.channel {
            Channel::Api(channel) => self.deliver_api(channel, job).await,
            Channel::Whatsapp(channel) => self.deliver_whatsapp(channel, job).await,
        }
    }

    async fn deliver_api(
        &self,
        channel: &ApiChannel,
        job: &ReplyJob,
    ) -> Result<Option<String>, DeliveryError> {
        if channel.webhook_url.is_empty() {
            return Ok(None);
        }
        self.post_webhook(&channel.webhook_url, &job.webhook_payload)
            .await
            .map(|()| None)
    }

    /// POSTs a webhook body; any 2xx answer is success.
    async fn post_webhook(&self, url: &str, payload: &Value) -> Result<(), DeliveryError> {
        let response = self
            .client
            .post(url)
            .json(payload)
            .send()
            .await
            .map_err(network_error)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(DeliveryError {
            message: format!("webhook answered {status}"),
            retryable: outbound::is_retryable_status(status.as_u16()),
        })
    }

    async fn deliver_whatsapp(
        &self,
        channel: &WhatsappChannel,
        job: &ReplyJob,
    ) -> Result<Option<String>, DeliveryError> {
        let url = outbound::send_url(
            &self.whatsapp_api_base,
            outbound::GRAPH_API_VERSION,
            &channel.phone_number_id,
        );
        let content = job.message.content.as_deref().unwrap_or_default();
        if content.chars().count() > outbound::MAX_TEXT_CHARS {
            return Err(DeliveryError {
                message: format!(
                    "WhatsApp text messages are limited to {} characters",
                    outbound::MAX_TEXT_CHARS
                ),
                retryable: false,
            });
        }
        let body = outbound::text_message_body(&job.recipient, content, job.reply_to.as_deref());
        let response = self
            .client
            .post(url)
            .bearer_auth(channel.api_key.expose())
            .json(&body)
            .send()
            .await
            .map_err(network_error)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(network_error)?;
        match outbound::parse_send_response(&bytes) {
            Ok(id) if status.is_success() => Ok(Some(id)),
            Ok(_) => Err(DeliveryError {
                message: format!("WhatsApp answered {status}"),
                retryable: outbound::is_retryable_status(status.as_u16()),
            }),
            Err(error) => Err(DeliveryError {
                message: error.to_string(),
                retryable: error.is_retryable() || outbound::is_retryable_status(status.as_u16()),
            }),
        }
    }
}

impl Deliverer for ProviderDeliverer {
    fn deliver<'a>(&'a self, job: &'a DeliveryJob) -> DeliveryFuture<'a> {
        Box::pin(async move {
            match job {
                DeliveryJob::Reply(reply) => self.deliver_reply(reply).await,
                DeliveryJob::Notification(notification) => self
                    .post_webhook(&notification.url, &notification.payload)
                    .await
                    .map(|()| None),
            }
        })
    }
}

/// A transport failure, described without the URL (it can carry an integrator's secrets, and
/// the description is stored on the message). A request that could not even be built will
/// not be built on a retry either.
fn network_error(error: reqwest::Error) -> DeliveryError {
    let retryable = !error.is_builder();
    DeliveryError {
        message: format!("provider unreachable: {}", error.without_url()),
        retryable,
    }
}
