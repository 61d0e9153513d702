//! WhatsApp Cloud end to end: Meta's subscription check, a customer's signed message, the
//! agent's reply through the (fake) Graph API, and Meta's read receipt for it.

mod support;

use support::{Backend, now_unix_seconds, spawn_app, whatsapp_status, whatsapp_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metas_subscription_check_is_answered_only_with_the_right_token_on_sqlite() {
    metas_subscription_check_is_answered_only_with_the_right_token(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metas_subscription_check_is_answered_only_with_the_right_token_on_postgres() {
    metas_subscription_check_is_answered_only_with_the_right_token(Backend::Postgres).await;
}

async fn metas_subscription_check_is_answered_only_with_the_right_token(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let inbox = app.provision().await.whatsapp_inbox;
    let check = |token: &str| {
        let query = format!("hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444");
        format!("/webhooks/whatsapp/{}?{query}", inbox.phone_number)
    };

    // Act
    let right = app.get(&check(&inbox.verify_token), None).await;
    let wrong = app.get(&check("not-the-token"), None).await;

    // Assert
    assert_eq!(right.status, 200, "{}", right.text);
    assert_eq!(right.text, "1158201444");
    assert_eq!(wrong.status, 403, "{}", wrong.text);
    assert!(!wrong.text.contains("1158201444"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whatsapp_conversation_round_trips_through_the_graph_api_on_sqlite() {
    a_whatsapp_conversation_round_trips_through_the_graph_api(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whatsapp_conversation_round_trips_through_the_graph_api_on_postgres() {
    a_whatsapp_conversation_round_trips_through_the_graph_api(Backend::Postgres).await;
}

async fn a_whatsapp_conversation_round_trips_through_the_graph_api(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let (account, agent, inbox) = (setup.account_id, &setup.agent, &setup.whatsapp_inbox);
    let customer = "972555000111";
    let body = whatsapp_text(
        &inbox.phone_number_id,
        customer,
        "wamid.IN.1",
        now_unix_seconds(),
        "Hi, is the shop open today?",
    );

    // Act: the customer writes.
    let answer = app.post_signed(inbox, &body).await;

    // Assert: stored in a conversation of the customer, shown with its content.
    assert_eq!(answer.status, 200, "{}", answer.text);
    let conversations = app.conversations(account, agent).await;
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    let conversation = &conversations[0];
    assert_eq!(conversation["inbox_id"], inbox.id);
    assert_eq!(
        conversation["meta"]["sender"]["phone_number"],
        "+972555000111"
    );
    assert_eq!(conversation["contact_inbox"]["source_id"], customer);
    let display_id = conversation["id"]
        .as_i64()
        .expect("a conversation has an id");
    let messages = app.messages(account, agent, display_id).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["content"], "Hi, is the shop open today?");
    assert_eq!(messages[0]["message_type"], 0);
    assert_eq!(messages[0]["source_id"], "wamid.IN.1");

    // Act: the agent replies.
    let reply = app
        .send_reply(account, agent, display_id, "Yes, until 8 pm.", false)
        .await;
    let reply_id = reply["id"].as_i64().expect("a message has an id");

    // Assert: the Graph API got the text, for the customer, with the inbox's token.
    let sent = app
        .provider
        .wait_for("the reply at the Graph API", 1, |request| {
            request.path.ends_with("/messages")
        })
        .await;
    let request = &sent[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!("/v22.0/{}/messages", inbox.phone_number_id)
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {}", inbox.api_key).as_str())
    );
    assert_eq!(request.body["messaging_product"], "whatsapp");
    assert_eq!(request.body["to"], customer);
    assert_eq!(request.body["type"], "text");
    assert_eq!(request.body["text"]["body"], "Yes, until 8 pm.");

    // Assert: Meta's id for it becomes its source_id.
    let stored = app
        .message_when(account, agent, display_id, reply_id, |message| {
            message["source_id"] == "wamid.OUT1"
        })
        .await;
    assert_eq!(stored["status"], "sent");

    // Act: Meta reports that the customer read it.
    let receipt = whatsapp_status(&inbox.phone_number_id, "wamid.OUT1", "read", customer);
    let answer = app.post_signed(inbox, &receipt).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.text);
    app.message_when(account, agent, display_id, reply_id, |message| {
        message["status"] == "read"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_report_naming_a_customers_message_leaves_it_alone_on_sqlite() {
    a_delivery_report_naming_a_customers_message_leaves_it_alone(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_report_naming_a_customers_message_leaves_it_alone_on_postgres() {
    a_delivery_report_naming_a_customers_message_leaves_it_alone(Backend::Postgres).await;
}

/// Delivery reports (`statuses[]`) are about messages the inbox sent. The corpus has reports
/// naming `wamid.xyzxyz`, which is also the id of the corpus customer's messages; such a report
/// must not mark the customer's own message read or failed.
async fn a_delivery_report_naming_a_customers_message_leaves_it_alone(backend: Backend) {
    // Arrange: a customer message, stored.
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let (account, agent, inbox) = (setup.account_id, &setup.agent, &setup.whatsapp_inbox);
    let customer = "972555000222";
    let body = whatsapp_text(
        &inbox.phone_number_id,
        customer,
        "wamid.IN.2",
        now_unix_seconds(),
        "Where is my parcel?",
    );
    app.post_signed(inbox, &body).await.ok();
    let display_id = app.conversations(account, agent).await[0]["id"]
        .as_i64()
        .expect("a conversation has an id");

    // Act: reports naming the customer's message, then an agent reply whose receipt is a
    // barrier: once it is applied, the earlier reports have been too.
    let failed = whatsapp_status(&inbox.phone_number_id, "wamid.IN.2", "failed", customer);
    let read = whatsapp_status(&inbox.phone_number_id, "wamid.IN.2", "read", customer);
    assert_eq!(app.post_signed(inbox, &failed).await.status, 200);
    assert_eq!(app.post_signed(inbox, &read).await.status, 200);
    let reply = app
        .send_reply(account, agent, display_id, "Let me check.", false)
        .await;
    let reply_id = reply["id"].as_i64().expect("a message has an id");
    app.message_when(account, agent, display_id, reply_id, |message| {
        message["source_id"] == "wamid.OUT1"
    })
    .await;
    let receipt = whatsapp_status(&inbox.phone_number_id, "wamid.OUT1", "read", customer);
    app.post_signed(inbox, &receipt).await.ok();
    app.message_when(account, agent, display_id, reply_id, |message| {
        message["status"] == "read"
    })
    .await;

    // Assert
    let messages = app.messages(account, agent, display_id).await;
    let customers = &messages[0];
    assert_eq!(customers["source_id"], "wamid.IN.2");
    assert_eq!(customers["status"], "sent", "{customers}");
    assert!(
        customers["content_attributes"]
            .get("external_error")
            .is_none(),
        "{customers}"
    );
}
