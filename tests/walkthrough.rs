//! A whole conversation on an API-channel inbox, from the customer's first message to the
//! agent's reply arriving at the integrator's `webhook_url`.

mod support;

use serde_json::{Value, json};
use support::{Backend, CableClient, WAIT, spawn_app, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_and_an_agent_talk_through_an_api_inbox_on_sqlite() {
    a_customer_and_an_agent_talk_through_an_api_inbox(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_and_an_agent_talk_through_an_api_inbox_on_postgres() {
    a_customer_and_an_agent_talk_through_an_api_inbox(Backend::Postgres).await;
}

async fn a_customer_and_an_agent_talk_through_an_api_inbox(backend: Backend) {
    // Arrange: an account, an agent watching /cable, and the customer's side of the inbox.
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let account = setup.account_id;
    let agent = &setup.agent;
    let mut cable = CableClient::connect(&app, account, agent).await;
    let inbox_path = format!("/public/api/v1/inboxes/{}", setup.api_inbox.identifier);

    // Act: the customer introduces themselves, opens a conversation and writes.
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
    let conversation_path = format!("{contact_path}/conversations/{display_id}");
    app.post(
        &format!("{conversation_path}/messages"),
        None,
        &json!({ "content": "Hello, my order has not arrived" }),
    )
    .await
    .ok();

    // Assert: the agent sees the conversation and the message live, in Chatwoot's shapes.
    let created = cable.next_event("conversation.created", WAIT).await;
    assert_eq!(created["id"], display_id);
    assert_eq!(created["inbox_id"], setup.api_inbox.id);
    assert_eq!(created["status"], "open");
    let message = cable.next_event("message.created", WAIT).await;
    assert_eq!(message["message_type"], 0, "incoming is 0: {message}");
    assert_eq!(message["conversation_id"], display_id);
    assert_eq!(message["content"], "Hello, my order has not arrived");
    assert_eq!(message["sender"]["type"], "contact");
    assert_eq!(message["sender"]["name"], "Grace Customer");
    assert!(
        message["created_at"].is_i64(),
        "created_at is unix seconds: {message}"
    );

    // Assert: the REST listings show it, with Chatwoot's counts.
    let list = app
        .get(
            &format!("/api/v1/accounts/{account}/conversations"),
            Some(&agent.access_token),
        )
        .await
        .ok();
    let meta = &list["data"]["meta"];
    assert_eq!(meta["all_count"], 1, "{list}");
    for count in ["mine_count", "assigned_count", "unassigned_count"] {
        assert!(meta[count].is_i64(), "meta has {count}: {meta}");
    }
    let counts = app
        .get(
            &format!("/api/v1/accounts/{account}/conversations/meta"),
            Some(&agent.access_token),
        )
        .await
        .ok();
    assert_eq!(
        &counts["meta"], meta,
        "the meta endpoint counts as the listing does"
    );
    let listed = &list["data"]["payload"][0];
    assert_eq!(listed["id"], display_id);
    assert_eq!(listed["meta"]["sender"]["type"], "contact");
    assert_eq!(
        listed["messages"][0]["content"],
        "Hello, my order has not arrived"
    );
    let messages = app.messages(account, agent, display_id).await;
    assert_eq!(contents(&messages), ["Hello, my order has not arrived"]);
    assert_eq!(messages[0]["message_type"], 0);

    // Act: the agent writes a private note, then replies.
    let note = app
        .send_reply(
            account,
            agent,
            display_id,
            "Internal: check the courier",
            true,
        )
        .await;
    assert_eq!(note["private"], true);
    let reply = app
        .send_reply(account, agent, display_id, "Sorry! It ships today.", false)
        .await;
    assert_eq!(reply["message_type"], 1, "outgoing is 1: {reply}");

    // Assert: the reply reaches the webhook_url as Chatwoot's message_created event; the note
    // never does.
    let delivered = app
        .provider
        .wait_for("the reply at the webhook_url", 1, |request| {
            request.path == "/api-webhook" && request.body["message_type"] == "outgoing"
        })
        .await;
    let event = &delivered[0].body;
    assert_eq!(event["event"], "message_created", "{event}");
    assert_eq!(event["content"], "Sorry! It ships today.");
    assert_eq!(event["private"], false);
    assert_eq!(event["conversation"]["id"], display_id);
    let notes_delivered = app
        .provider
        .requests()
        .iter()
        .filter(|request| request.body["content"] == "Internal: check the courier")
        .count();
    assert_eq!(notes_delivered, 0, "a private note never leaves");

    // Assert: the agent's listing holds all three; the customer's leaves out the note.
    let messages = app.messages(account, agent, display_id).await;
    assert_eq!(
        contents(&messages),
        [
            "Hello, my order has not arrived",
            "Internal: check the courier",
            "Sorry! It ships today."
        ]
    );
    assert_eq!(messages[2]["message_type"], 1);
    let seen_by_customer = app
        .get(&format!("{conversation_path}/messages"), None)
        .await
        .ok();
    let seen: Vec<Value> = seen_by_customer.as_array().cloned().unwrap_or_default();
    assert_eq!(
        contents(&seen),
        ["Hello, my order has not arrived", "Sorry! It ships today."]
    );
}

fn contents(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|message| message["content"].as_str().unwrap_or_default())
        .collect()
}
