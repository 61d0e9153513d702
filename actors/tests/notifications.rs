//! An API inbox's notifications share the conversation's outbound queue with its replies:
//! they leave in order, and a notification that cannot be delivered is given up after its
//! retries without changing anything or holding up what follows.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_actors::RegistryConfig;
use switchyard_actors::conversation::OutgoingDraft;
use switchyard_actors::delivery::{
    Deliverer, DeliveryError, DeliveryFuture, DeliveryJob, RetryPolicy,
};
use switchyard_engine::contact::ContactProfile;
use switchyard_engine::conversation::Conversation;
use switchyard_engine::inbound::InboundMessage;
use switchyard_engine::message::{ContentType, MessageStatus};
use switchyard_engine::user::UserSummary;
use switchyard_storage::NewUser;

/// A webhook receiver that is down for notifications but accepts replies, and remembers
/// every attempt it saw, in order.
#[derive(Default)]
struct DownForNotifications {
    attempts: Mutex<Vec<String>>,
}

impl Deliverer for DownForNotifications {
    fn deliver<'a>(&'a self, job: &'a DeliveryJob) -> DeliveryFuture<'a> {
        self.attempts.lock().unwrap().push(job.to_string());
        let outcome = match job {
            DeliveryJob::Reply(_) => Ok(None),
            DeliveryJob::Notification(_) => Err(DeliveryError {
                message: "webhook answered 503 Service Unavailable".into(),
                retryable: true,
            }),
        };
        Box::pin(async move { outcome })
    }
}

impl DownForNotifications {
    fn attempts(&self) -> Vec<String> {
        self.attempts.lock().unwrap().clone()
    }
}

struct World {
    engine: common::Engine,
    deliverer: Arc<DownForNotifications>,
}

/// An API inbox with a `webhook_url`, over SQLite, retrying each delivery twice in all.
async fn world() -> World {
    let config = RegistryConfig {
        retry: RetryPolicy {
            attempts: 2,
            first_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
        },
        ..RegistryConfig::default()
    };
    let deliverer = Arc::new(DownForNotifications::default());
    let engine = common::Engine::start(deliverer.clone(), config, "http://127.0.0.1:9/hook").await;
    World { engine, deliverer }
}

impl World {
    async fn conversation(&self) -> Conversation {
        let profile = ContactProfile {
            source_id: "customer".into(),
            ..ContactProfile::default()
        };
        let (contact, contact_inbox) = self
            .engine
            .store
            .resolve_contact(self.engine.inbox.account_id, self.engine.inbox.id, &profile)
            .await
            .unwrap();
        self.engine
            .registry
            .start_conversation(&self.engine.inbox, &contact, &contact_inbox, json!({}))
            .await
            .unwrap()
    }

    async fn agent(&self) -> UserSummary {
        let user = NewUser {
            name: "Alan Agent".into(),
            display_name: None,
            email: "alan@example.com".into(),
            password_hash: None,
        };
        self.engine
            .store
            .create_user(&user)
            .await
            .unwrap()
            .summary()
    }

    fn draft(&self, agent: &UserSummary, content: &str, private: bool) -> OutgoingDraft {
        OutgoingDraft {
            sender: agent.clone(),
            content: content.into(),
            private,
            content_type: ContentType::Text,
            content_attributes: json!({}),
            echo_id: None,
        }
    }

    /// Polls the deliverer until it has seen `count` attempts, or fails after a deadline.
    async fn attempts(&self, count: usize) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let attempts = self.deliverer.attempts();
            if attempts.len() >= count {
                return attempts;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only these attempts arrived: {attempts:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn an_undeliverable_notification_is_given_up_and_changes_nothing() {
    // Arrange
    let world = world().await;
    let conversation = world.conversation().await;
    let agent = world.agent().await;
    let message = InboundMessage {
        contact: ContactProfile::default(),
        source_id: None,
        content: Some("Hello".into()),
        content_type: ContentType::Text,
        content_attributes: json!({}),
        attachments: Vec::new(),
        sent_at: None,
        echo_id: None,
    };

    // Act
    let incoming = world
        .engine
        .registry
        .post_incoming(conversation.id, message)
        .await
        .unwrap();
    let note = world.draft(&agent, "Internal", true);
    world
        .engine
        .registry
        .reply(conversation.id, note)
        .await
        .unwrap();
    let reply = world.draft(&agent, "Hi!", false);
    let reply = world
        .engine
        .registry
        .reply(conversation.id, reply)
        .await
        .unwrap();

    // Assert: each notification is tried twice and given up; the reply still leaves after
    // them, and the note never does.
    let attempts = world.attempts(5).await;
    assert_eq!(
        attempts,
        [
            "conversation_created notification",
            "conversation_created notification",
            "message_created notification",
            "message_created notification",
            &format!("reply {}", reply.id),
        ]
    );

    // Assert: nothing was marked failed.
    for id in [incoming.id, reply.id] {
        let stored = world.engine.store.message(id).await.unwrap().unwrap();
        assert_eq!(stored.status, MessageStatus::Sent, "message {id}");
    }
}
