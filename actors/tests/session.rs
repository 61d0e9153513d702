//! An agent session never lets a slow client grow the server's memory: when its outbox is
//! full it stops, and the closed outbox tells the socket to close.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use ractor::Actor;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use switchyard_actors::Presence;
use switchyard_actors::session::{
    AgentSession, SessionArguments, SessionMessage, Subscriber, Visibility,
};
use switchyard_engine::event::{Event, EventKind};
use switchyard_engine::{AccountId, ConversationId, InboxId, Timestamp, UserId};
use tokio::sync::mpsc;

fn event(seq: i64, inbox: i64) -> Arc<Event> {
    Arc::new(Event {
        account_id: AccountId(1),
        inbox_id: InboxId(inbox),
        contact_inbox_id: 1,
        conversation_id: ConversationId(1),
        seq,
        kind: EventKind::MessageCreated,
        private: false,
        at: Timestamp(0),
        data: json!({ "id": seq }),
    })
}

#[tokio::test]
async fn a_session_whose_client_does_not_read_is_stopped_and_closes_its_outbox() {
    // Arrange: a session watching inbox 7, with room for two frames.
    let (store, _dir) = common::sqlite_store().await;
    let (outbox, mut frames) = mpsc::channel(2);
    let presence = Presence::new();
    let arguments = SessionArguments {
        subscriber: Subscriber::Agent(UserId(5)),
        outbox,
        presence: presence.clone(),
        store,
    };
    let (session, handle) = Actor::spawn(None, AgentSession, arguments).await.unwrap();
    let visibility = Visibility::Inboxes(HashSet::from([InboxId(7)]));
    session
        .call(
            |joined| SessionMessage::Watch {
                account: AccountId(1),
                visibility,
                identifier: "room".into(),
                joined,
            },
            Some(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert!(presence.is_online(UserId(5)));

    // Act: an event of another inbox (filtered out), then three of inbox 7 nobody reads.
    session.cast(SessionMessage::Event(event(1, 8))).unwrap();
    for seq in 2..=4 {
        session.cast(SessionMessage::Event(event(seq, 7))).unwrap();
    }

    // Assert: the session stopped; the two queued frames are readable, then the outbox ends.
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
    let mut seen = Vec::new();
    while let Some(frame) = frames.recv().await {
        let frame: serde_json::Value = serde_json::from_str(&frame).unwrap();
        seen.push(frame["message"]["data"]["id"].as_i64().unwrap());
    }
    assert_eq!(seen, [2, 3], "only inbox 7's events, and only what fitted");
    assert!(
        !presence.is_online(UserId(5)),
        "a stopped session is offline"
    );
}
