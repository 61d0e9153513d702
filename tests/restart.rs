//! A graceful restart loses nothing: what was acknowledged before SIGTERM is listed after it,
//! the customer's next message continues the same conversation, and numbering goes on.

mod support;

use support::{Backend, now_unix_seconds, spawn_app, text, whatsapp_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_survives_a_graceful_restart_and_continues_on_sqlite() {
    a_conversation_survives_a_graceful_restart_and_continues(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_survives_a_graceful_restart_and_continues_on_postgres() {
    a_conversation_survives_a_graceful_restart_and_continues(Backend::Postgres).await;
}

async fn a_conversation_survives_a_graceful_restart_and_continues(backend: Backend) {
    // Arrange: a customer message and the agent's delivered reply.
    let mut app = spawn_app(backend).await;
    let setup = app.provision().await;
    let (account, agent, inbox) = (setup.account_id, &setup.agent, &setup.whatsapp_inbox);
    let customer = "972555000888";
    let first = whatsapp_text(
        &inbox.phone_number_id,
        customer,
        "wamid.BEFORE",
        now_unix_seconds(),
        "Before the restart",
    );
    app.post_signed(inbox, &first).await.ok();
    let display_id = app.conversations(account, agent).await[0]["id"]
        .as_i64()
        .expect("a conversation has an id");
    let reply = app
        .send_reply(account, agent, display_id, "Noted.", false)
        .await;
    let reply_id = reply["id"].as_i64().expect("a message has an id");
    app.message_when(account, agent, display_id, reply_id, |message| {
        message["source_id"] == "wamid.OUT1"
    })
    .await;

    // Act: SIGTERM, then start again on the same storage.
    app.restart().await;

    // Assert: everything is still listed, as it was.
    let messages = app.messages(account, agent, display_id).await;
    let contents: Vec<String> = messages.iter().map(|m| text(&m["content"])).collect();
    assert_eq!(contents, ["Before the restart", "Noted."]);
    assert_eq!(messages[1]["source_id"], "wamid.OUT1");

    // Act: Meta retries the old webhook, and the customer writes again.
    let retried = app.post_signed(inbox, &first).await;
    let second = whatsapp_text(
        &inbox.phone_number_id,
        customer,
        "wamid.AFTER",
        now_unix_seconds() + 1,
        "After the restart",
    );
    let answer = app.post_signed(inbox, &second).await;

    // Assert: the retry stores nothing, the new message joins the same conversation.
    assert_eq!(retried.status, 200, "{}", retried.text);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let conversations = app.conversations(account, agent).await;
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    assert_eq!(conversations[0]["id"], display_id);
    let messages = app.messages(account, agent, display_id).await;
    let contents: Vec<String> = messages.iter().map(|m| text(&m["content"])).collect();
    assert_eq!(
        contents,
        ["Before the restart", "Noted.", "After the restart"]
    );
    let ids: Vec<i64> = messages.iter().filter_map(|m| m["id"].as_i64()).collect();
    assert!(
        ids[2] > ids[1],
        "new messages get new ids after a restart: {ids:?}"
    );

    // Act: a new customer writes.
    let newcomer = whatsapp_text(
        &inbox.phone_number_id,
        "972555000999",
        "wamid.NEWCOMER",
        now_unix_seconds(),
        "Hello, first time here",
    );
    app.post_signed(inbox, &newcomer).await.ok();

    // Assert: their conversation takes the next display id, not one used before the restart.
    let display_ids: Vec<i64> = app
        .conversations(account, agent)
        .await
        .iter()
        .filter_map(|conversation| conversation["id"].as_i64())
        .collect();
    assert_eq!(display_ids.len(), 2, "{display_ids:?}");
    assert!(
        display_ids.contains(&display_id) && display_ids.contains(&(display_id + 1)),
        "display ids continue: {display_ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_tells_cable_clients_to_reconnect() {
    // Arrange: an agent connected to /cable.
    let mut app = support::spawn_app(Backend::Sqlite).await;
    let setup = app.provision().await;
    let mut cable = support::CableClient::connect(&app, setup.account_id, &setup.agent).await;

    // Act: SIGTERM, while the client keeps reading.
    let (status, (frames, close_code)) =
        tokio::join!(app.stop_gracefully(), cable.until_closed(support::WAIT));

    // Assert: ActionCable's restart notice, then a close frame with "service restart".
    assert!(status.success(), "a graceful stop exits 0, got {status}");
    let disconnect = frames
        .iter()
        .find(|frame| frame["type"] == "disconnect")
        .unwrap_or_else(|| panic!("no disconnect frame among {frames:?}"));
    assert_eq!(disconnect["reconnect"], true);
    assert_eq!(close_code, Some(1012));
}
