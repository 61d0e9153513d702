//! Outbound delivery: what the engine asks of a provider client, and the per-conversation
//! queue's retry policy.
//!
//! The queue carries two kinds of job. A reply is an agent's message leaving through its
//! channel; its outcome becomes the message's status. A notification tells an API inbox's
//! `webhook_url` about an event of the conversation; its outcome changes nothing, because the
//! event already happened and is stored.

use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use switchyard_engine::channel::Inbox;
use switchyard_engine::message::Message;
use thiserror::Error;

/// One thing the outbound queue sends.
#[derive(Clone, Debug)]
pub enum DeliveryJob {
    /// An agent's reply, sent through its inbox's channel.
    Reply(Box<ReplyJob>),
    /// An event of the conversation, POSTed to an API inbox's `webhook_url`.
    Notification(NotificationJob),
}

/// An agent's reply to deliver.
#[derive(Clone, Debug)]
pub struct ReplyJob {
    /// The inbox (its channel says where and how to send).
    pub inbox: Inbox,
    /// The customer's identity on the channel (the WhatsApp number, the API contact id).
    pub recipient: String,
    /// The message.
    pub message: Message,
    /// The provider id of the customer message being replied to, if any.
    pub reply_to: Option<String>,
    /// The `message_created` webhook payload, for channels that deliver by webhook.
    pub webhook_payload: Value,
}

/// An event to announce to an API inbox's `webhook_url`.
#[derive(Clone, Debug)]
pub struct NotificationJob {
    /// Where to POST it.
    pub url: String,
    /// The event's webhook name, such as `conversation_created`.
    pub event: &'static str,
    /// The JSON body, its `event` field included.
    pub payload: Value,
}

impl fmt::Display for DeliveryJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliveryJob::Reply(reply) => write!(f, "reply {}", reply.message.id),
            DeliveryJob::Notification(notification) => {
                write!(f, "{} notification", notification.event)
            }
        }
    }
}

/// Why a delivery attempt failed.
#[derive(Clone, Debug, Error)]
#[error("{message}")]
pub struct DeliveryError {
    /// The provider's (or the network's) explanation.
    pub message: String,
    /// Whether trying again may succeed (a timeout, a 5xx, a 429).
    pub retryable: bool,
}

/// A future returned by a [`Deliverer`].
pub type DeliveryFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<String>, DeliveryError>> + Send + 'a>>;

/// Sends a job: a reply through its channel's provider, a notification to its URL.
/// Implemented by the gateways' outbound clients; returns the provider's id for a reply's
/// message when it gives one.
pub trait Deliverer: Send + Sync + 'static {
    /// Makes one attempt.
    fn deliver<'a>(&'a self, job: &'a DeliveryJob) -> DeliveryFuture<'a>;
}

/// How often and how patiently deliveries are retried.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the first retry; each later wait doubles.
    pub first_backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Delivers one job, retrying retryable failures with exponential backoff.
///
/// LIMITATION: retries are held in memory; a reply whose delivery is being retried when the
/// node stops is left with status `sent` and is not retried after the restart, and a
/// notification being retried then is lost.
pub async fn deliver_with_retries(
    deliverer: &Arc<dyn Deliverer>,
    job: &DeliveryJob,
    policy: RetryPolicy,
) -> Result<Option<String>, DeliveryError> {
    let mut backoff = policy.first_backoff;
    let mut attempt = 1;
    loop {
        match deliverer.deliver(job).await {
            Ok(source_id) => return Ok(source_id),
            Err(error) if error.retryable && attempt < policy.attempts => {
                tracing::warn!(
                    delivery = %job,
                    attempt,
                    error = %error,
                    "delivery failed, will retry"
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(policy.max_backoff);
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}
