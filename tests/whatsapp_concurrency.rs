//! Webhooks that race: Meta retries in parallel, and a chatty customer's messages arrive all
//! at once and out of order. Nothing is lost, nothing is doubled, and the conversation reads in
//! the order the customer wrote.

mod support;

use futures::future::join_all;
use serde_json::Value;
use std::collections::BTreeSet;
use support::{Backend, now_unix_seconds, spawn_app, text, whatsapp_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_webhook_posted_five_times_at_once_is_stored_once_on_sqlite() {
    the_same_webhook_posted_five_times_at_once_is_stored_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_webhook_posted_five_times_at_once_is_stored_once_on_postgres() {
    the_same_webhook_posted_five_times_at_once_is_stored_once(Backend::Postgres).await;
}

async fn the_same_webhook_posted_five_times_at_once_is_stored_once(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let inbox = &setup.whatsapp_inbox;
    let body = whatsapp_text(
        &inbox.phone_number_id,
        "972555000444",
        "wamid.RETRIED",
        now_unix_seconds(),
        "Are you there?",
    );

    // Act
    let answers = join_all((0..5).map(|_| app.post_signed(inbox, &body))).await;

    // Assert: every copy is acknowledged, one is stored.
    for answer in &answers {
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let conversations = app.conversations(setup.account_id, &setup.admin).await;
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    let display_id = conversations[0]["id"]
        .as_i64()
        .expect("a conversation has an id");
    let messages = app
        .messages(setup.account_id, &setup.admin, display_id)
        .await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["source_id"], "wamid.RETRIED");
    let metrics = app.get("/metrics", None).await.text;
    assert!(
        metrics.contains("switchyard_messages_total{direction=\"incoming\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("switchyard_duplicates_total 4"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_racing_messages_of_a_new_customer_land_in_one_conversation_in_order_on_sqlite() {
    fifty_racing_messages_of_a_new_customer_land_in_one_conversation_in_order(Backend::Sqlite)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_racing_messages_of_a_new_customer_land_in_one_conversation_in_order_on_postgres() {
    fifty_racing_messages_of_a_new_customer_land_in_one_conversation_in_order(Backend::Postgres)
        .await;
}

/// How many messages the customer sends.
const BURST: i64 = 50;

async fn fifty_racing_messages_of_a_new_customer_land_in_one_conversation_in_order(
    backend: Backend,
) {
    // Arrange: 50 messages whose provider timestamps are a shuffle of 45 distinct seconds, so
    // five pairs share a second; they are posted in yet another order.
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let inbox = &setup.whatsapp_inbox;
    let customer = "972555000555";
    let base = now_unix_seconds() - 3_600;
    let sent_at = |index: i64| base + (index * 17) % 45;
    let posting_order: Vec<i64> = (0..BURST).map(|step| (step * 23) % BURST).collect();
    let bodies: Vec<Vec<u8>> = posting_order
        .iter()
        .map(|&index| {
            whatsapp_text(
                &inbox.phone_number_id,
                customer,
                &format!("wamid.BURST.{index:02}"),
                sent_at(index),
                &format!("message {index:02}"),
            )
        })
        .collect();

    // Act
    let answers = join_all(bodies.iter().map(|body| app.post_signed(inbox, body))).await;

    // Assert: all acknowledged; one customer, one conversation.
    for answer in &answers {
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let conversations = app.conversations(setup.account_id, &setup.admin).await;
    assert_eq!(
        conversations.len(),
        1,
        "one conversation: {conversations:?}"
    );
    let display_id = conversations[0]["id"]
        .as_i64()
        .expect("a conversation has an id");
    let latest = app
        .messages(setup.account_id, &setup.admin, display_id)
        .await;
    assert_eq!(latest.len(), 20, "the latest page holds 20");
    let messages = app
        .all_messages(setup.account_id, &setup.admin, display_id)
        .await;
    let senders: BTreeSet<i64> = messages
        .iter()
        .map(|message| message["sender"]["id"].as_i64().expect("a sender id"))
        .collect();
    assert_eq!(senders.len(), 1, "one contact sent them all");

    // Assert: none lost, none doubled, each with its provider time.
    let stored: Vec<String> = messages
        .iter()
        .map(|message| text(&message["source_id"]))
        .collect();
    let expected: BTreeSet<String> = (0..BURST)
        .map(|index| format!("wamid.BURST.{index:02}"))
        .collect();
    assert_eq!(stored.len(), expected.len(), "{stored:?}");
    assert_eq!(stored.iter().cloned().collect::<BTreeSet<_>>(), expected);
    for message in &messages {
        let index: i64 = text(&message["source_id"])["wamid.BURST.".len()..]
            .parse()
            .expect("the index is in the id");
        assert_eq!(message["created_at"], sent_at(index), "{message}");
    }

    // Assert: listed by provider time, ties in arrival (id) order.
    let keys: Vec<(i64, i64)> = messages.iter().map(order_key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "messages are listed by (created_at, id)");
}

fn order_key(message: &Value) -> (i64, i64) {
    (
        message["created_at"]
            .as_i64()
            .expect("created_at is unix seconds"),
        message["id"].as_i64().expect("a message has an id"),
    )
}
