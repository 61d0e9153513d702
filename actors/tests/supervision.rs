//! The actor system over real (SQLite) storage: failure isolation, restart from storage and
//! passivation.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchyard_actors::conversation::ConversationMessage;
use switchyard_actors::delivery::{Deliverer, DeliveryFuture, DeliveryJob};
use switchyard_actors::{EngineError, RegistryConfig};
use switchyard_engine::contact::{Contact, ContactInbox, ContactProfile};
use switchyard_engine::conversation::Conversation;
use switchyard_engine::inbound::InboundMessage;
use switchyard_engine::message::ContentType;
use switchyard_storage::MessagePage;

/// A deliverer for an inbox without a webhook: every reply is accepted at once.
struct AcceptEverything;

impl Deliverer for AcceptEverything {
    fn deliver<'a>(&'a self, _: &'a DeliveryJob) -> DeliveryFuture<'a> {
        Box::pin(async { Ok(None) })
    }
}

type World = common::Engine;

async fn world(config: RegistryConfig) -> World {
    common::Engine::start(Arc::new(AcceptEverything), config, "").await
}

impl World {
    async fn customer(&self, source_id: &str) -> (Contact, ContactInbox) {
        let profile = ContactProfile {
            source_id: source_id.into(),
            ..ContactProfile::default()
        };
        self.store
            .resolve_contact(self.inbox.account_id, self.inbox.id, &profile)
            .await
            .unwrap()
    }

    async fn conversation(&self, source_id: &str) -> Conversation {
        let (contact, contact_inbox) = self.customer(source_id).await;
        self.registry
            .start_conversation(&self.inbox, &contact, &contact_inbox, json!({}))
            .await
            .unwrap()
    }

    async fn post(&self, conversation: &Conversation, text: &str) -> Result<(), EngineError> {
        let message = InboundMessage {
            contact: ContactProfile::default(),
            source_id: None,
            content: Some(text.into()),
            content_type: ContentType::Text,
            content_attributes: json!({}),
            attachments: Vec::new(),
            sent_at: None,
            echo_id: None,
        };
        self.registry
            .post_incoming(conversation.id, message)
            .await
            .map(|_| ())
    }

    async fn contents(&self, conversation: &Conversation) -> Vec<String> {
        let page = MessagePage::Latest { limit: 100 };
        let messages = self.store.messages(conversation.id, page).await.unwrap();
        messages
            .into_iter()
            .filter_map(|message| message.content)
            .collect()
    }

    /// The conversation's stored event numbers, which must run 1, 2, 3... without gaps.
    async fn event_seqs(&self, conversation: &Conversation) -> Vec<i64> {
        let events = self
            .store
            .events_after(conversation.id, 0, 1_000)
            .await
            .unwrap();
        events.into_iter().map(|event| event.seq).collect()
    }
}

#[tokio::test]
async fn a_panicking_conversation_does_not_affect_its_neighbours() {
    let world = world(RegistryConfig::default()).await;
    let failing = world.conversation("customer-a").await;
    let neighbour = world.conversation("customer-b").await;
    world.post(&failing, "before the failure").await.unwrap();

    world
        .registry
        .tell_conversation(failing.id, ConversationMessage::Panic)
        .await;
    world.post(&neighbour, "business as usual").await.unwrap();
    world.post(&failing, "after the failure").await.unwrap();

    assert_eq!(world.contents(&neighbour).await, ["business as usual"]);
    assert_eq!(
        world.contents(&failing).await,
        ["before the failure", "after the failure"],
        "the failed conversation restarts from storage and keeps its history"
    );
    assert_eq!(world.event_seqs(&failing).await, [1, 2, 3]);
}

#[tokio::test]
async fn a_passivated_conversation_restarts_from_storage_where_it_left_off() {
    let config = RegistryConfig {
        conversation_idle: Duration::from_millis(100),
        ..RegistryConfig::default()
    };
    let world = world(config).await;
    let conversation = world.conversation("customer").await;
    world.post(&conversation, "first").await.unwrap();

    tokio::time::sleep(Duration::from_millis(400)).await;
    world.post(&conversation, "second").await.unwrap();

    assert_eq!(world.contents(&conversation).await, ["first", "second"]);
    assert_eq!(world.event_seqs(&conversation).await, [1, 2, 3]);
}

#[tokio::test]
async fn concurrent_requests_during_passivation_are_neither_lost_nor_reordered() {
    let config = RegistryConfig {
        conversation_idle: Duration::from_millis(20),
        ..RegistryConfig::default()
    };
    let world = world(config).await;
    let conversation = world.conversation("customer").await;

    for round in 0..20 {
        world
            .post(&conversation, &format!("message {round}"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(round % 4 * 10)).await;
    }

    let expected: Vec<String> = (0..20).map(|round| format!("message {round}")).collect();
    assert_eq!(world.contents(&conversation).await, expected);
    let seqs = world.event_seqs(&conversation).await;
    assert_eq!(seqs, (1..=21).collect::<Vec<_>>());
}
