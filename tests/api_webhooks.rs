//! An API inbox's `webhook_url` hears every conversation and message event of the inbox, in
//! the conversation's order, as Chatwoot's webhooks show them; private notes never leave.

mod support;

use serde_json::{Value, json};
use support::{Backend, Provisioned, TestApp, spawn_app, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_inbox_webhook_hears_a_conversation_in_order_on_sqlite() {
    an_api_inbox_webhook_hears_a_conversation_in_order(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_inbox_webhook_hears_a_conversation_in_order_on_postgres() {
    an_api_inbox_webhook_hears_a_conversation_in_order(Backend::Postgres).await;
}

async fn an_api_inbox_webhook_hears_a_conversation_in_order(backend: Backend) {
    // Arrange: an API inbox whose webhook_url is the fake provider's `/api-webhook`.
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let (account, agent) = (setup.account_id, &setup.agent);

    // Act: the customer opens a conversation and writes; the agent writes a private note and
    // replies, then resolves the conversation.
    let display_id = customer_writes(&app, &setup, "Where is my parcel?").await;
    app.send_reply(
        account,
        agent,
        display_id,
        "Internal: ask the courier",
        true,
    )
    .await;
    app.send_reply(account, agent, display_id, "It arrives tomorrow.", false)
        .await;
    let path = format!("/api/v1/accounts/{account}/conversations/{display_id}/toggle_status");
    app.post(
        &path,
        Some(&agent.access_token),
        &json!({ "status": "resolved" }),
    )
    .await
    .ok();

    // Assert: four events, in the order they happened.
    let events = webhook_events(&app, 4).await;
    assert_eq!(
        names(&events),
        [
            "conversation_created",
            "message_created",
            "message_created",
            "conversation_status_changed"
        ],
        "{events:#?}"
    );
    let created = &events[0];
    assert_eq!(created["id"], display_id);
    assert_eq!(created["inbox_id"], setup.api_inbox.id);
    assert_eq!(created["status"], "open");

    let incoming = &events[1];
    assert_eq!(incoming["message_type"], "incoming", "{incoming}");
    assert_eq!(incoming["content"], "Where is my parcel?");
    assert_eq!(incoming["sender"]["type"], "contact");
    assert_eq!(incoming["sender"]["name"], "Grace Customer");
    assert_eq!(incoming["conversation"]["id"], display_id);
    assert_eq!(incoming["account"]["id"], account);

    let reply = &events[2];
    assert_eq!(reply["message_type"], "outgoing", "{reply}");
    assert_eq!(reply["content"], "It arrives tomorrow.");
    assert_eq!(reply["sender"]["type"], "user");
    assert_eq!(reply["sender"]["id"], agent.id);

    let resolved = &events[3];
    assert_eq!(resolved["id"], display_id);
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(
        resolved["changed_attributes"],
        json!([{ "status": { "previous_value": "open", "current_value": "resolved" } }])
    );

    // Assert: the private note never left, in any form.
    let leaked = app
        .provider
        .requests()
        .iter()
        .filter(|request| {
            request.body["private"] == true
                || request.body["content"] == "Internal: ask the courier"
        })
        .count();
    assert_eq!(leaked, 0, "a private note never leaves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignment_reaches_the_webhook_as_a_conversation_update_on_sqlite() {
    an_assignment_reaches_the_webhook_as_a_conversation_update(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignment_reaches_the_webhook_as_a_conversation_update_on_postgres() {
    an_assignment_reaches_the_webhook_as_a_conversation_update(Backend::Postgres).await;
}

async fn an_assignment_reaches_the_webhook_as_a_conversation_update(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let (account, admin, agent) = (setup.account_id, &setup.admin, &setup.agent);
    let display_id = customer_writes(&app, &setup, "Hello?").await;

    // Act
    let path = format!("/api/v1/accounts/{account}/conversations/{display_id}/assignments");
    app.post(
        &path,
        Some(&admin.access_token),
        &json!({ "assignee_id": agent.id }),
    )
    .await
    .ok();

    // Assert: Chatwoot's webhooks have no assignee event; it is a conversation update.
    let events = webhook_events(&app, 3).await;
    let updated = &events[2];
    assert_eq!(updated["event"], "conversation_updated", "{events:#?}");
    assert_eq!(updated["id"], display_id);
    assert_eq!(updated["meta"]["assignee"]["id"], agent.id);
    assert_eq!(
        updated["changed_attributes"],
        json!([{ "assignee_id": { "previous_value": null, "current_value": agent.id } }])
    );
}

/// A customer named Grace opens a conversation on the API inbox and writes `content`;
/// returns the conversation's display id.
async fn customer_writes(app: &TestApp, setup: &Provisioned, content: &str) -> i64 {
    let inbox_path = format!("/public/api/v1/inboxes/{}", setup.api_inbox.identifier);
    let contact = app
        .post(
            &format!("{inbox_path}/contacts"),
            None,
            &json!({ "name": "Grace Customer", "email": "grace@example.com" }),
        )
        .await
        .ok();
    let contact_path = format!("{inbox_path}/contacts/{}", text(&contact["source_id"]));
    let conversation = app
        .post(&format!("{contact_path}/conversations"), None, &json!({}))
        .await
        .ok();
    let display_id = conversation["id"]
        .as_i64()
        .expect("a conversation has an id");
    let messages_path = format!("{contact_path}/conversations/{display_id}/messages");
    app.post(&messages_path, None, &json!({ "content": content }))
        .await
        .ok();
    display_id
}

/// The first `count` bodies POSTed to the API inbox's webhook_url, in arrival order.
async fn webhook_events(app: &TestApp, count: usize) -> Vec<Value> {
    app.provider
        .wait_for("events at the webhook_url", count, |request| {
            request.path == "/api-webhook"
        })
        .await
        .into_iter()
        .take(count)
        .map(|request| request.body)
        .collect()
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["event"].as_str().unwrap_or_default())
        .collect()
}
