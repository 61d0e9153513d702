//! Replies Meta does not take at once: a refusal marks the reply failed, visibly; a passing
//! outage is retried until the reply goes out.

mod support;

use serde_json::json;
use support::{Backend, CableClient, TestApp, WAIT, now_unix_seconds, spawn_app, whatsapp_text};

/// A customer writes to the WhatsApp inbox; returns the conversation's display id.
async fn customer_writes(app: &TestApp, setup: &support::Provisioned, customer: &str) -> i64 {
    let inbox = &setup.whatsapp_inbox;
    let body = whatsapp_text(
        &inbox.phone_number_id,
        customer,
        &format!("wamid.FROM.{customer}"),
        now_unix_seconds(),
        "Can you send me the invoice?",
    );
    app.post_signed(inbox, &body).await.ok();
    app.conversations(setup.account_id, &setup.agent).await[0]["id"]
        .as_i64()
        .expect("a conversation has an id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_meta_refuses_is_marked_failed_with_metas_error_on_sqlite() {
    a_reply_meta_refuses_is_marked_failed_with_metas_error(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_meta_refuses_is_marked_failed_with_metas_error_on_postgres() {
    a_reply_meta_refuses_is_marked_failed_with_metas_error(Backend::Postgres).await;
}

async fn a_reply_meta_refuses_is_marked_failed_with_metas_error(backend: Backend) {
    // Arrange: Meta will refuse the next send for good.
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let (account, agent) = (setup.account_id, &setup.agent);
    let mut cable = CableClient::connect(&app, account, agent).await;
    let display_id = customer_writes(&app, &setup, "972555000666").await;
    app.provider.script_whatsapp_answers(vec![(
        400,
        json!({ "error": {
            "message": "(#131030) Recipient phone number not in allowed list",
            "type": "OAuthException",
            "code": 131030,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": "Recipient phone number not in allowed list",
            },
            "fbtrace_id": "AbCdEfGhIjKl",
        }}),
    )]);

    // Act
    let reply = app
        .send_reply(account, agent, display_id, "Here it is.", false)
        .await;
    let reply_id = reply["id"].as_i64().expect("a message has an id");

    // Assert: the agent is told live, and the listing shows why.
    let updated = cable
        .next_event_where(
            "message.updated",
            |data| data["id"] == reply_id && data["status"] == "failed",
            WAIT,
        )
        .await;
    assert_eq!(updated["conversation_id"], display_id);
    let error = updated["content_attributes"]["external_error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("131030"), "Meta's error is kept: {updated}");
    let listed = app
        .message_when(account, agent, display_id, reply_id, |message| {
            message["status"] == "failed"
        })
        .await;
    assert!(
        listed["content_attributes"]["external_error"]
            .as_str()
            .is_some_and(|error| error.contains("131030")),
        "{listed}"
    );
    assert!(listed["source_id"].is_null(), "{listed}");
    let attempts = app
        .provider
        .requests()
        .iter()
        .filter(|request| request.path.ends_with("/messages"))
        .count();
    assert_eq!(attempts, 1, "a refusal is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_meets_a_passing_outage_and_is_sent_on_retry_on_sqlite() {
    a_reply_meets_a_passing_outage_and_is_sent_on_retry(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_meets_a_passing_outage_and_is_sent_on_retry_on_postgres() {
    a_reply_meets_a_passing_outage_and_is_sent_on_retry(Backend::Postgres).await;
}

async fn a_reply_meets_a_passing_outage_and_is_sent_on_retry(backend: Backend) {
    // Arrange: Meta answers 503 once, then works again.
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let (account, agent) = (setup.account_id, &setup.agent);
    let display_id = customer_writes(&app, &setup, "972555000777").await;
    app.provider.script_whatsapp_answers(vec![(
        503,
        json!({ "error": { "message": "Service temporarily unavailable", "code": 2 } }),
    )]);

    // Act
    let reply = app
        .send_reply(account, agent, display_id, "Sending it now.", false)
        .await;
    let reply_id = reply["id"].as_i64().expect("a message has an id");

    // Assert: sent on the second attempt, with Meta's id.
    let sent = app
        .message_when(account, agent, display_id, reply_id, |message| {
            !message["source_id"].is_null()
        })
        .await;
    assert_eq!(sent["source_id"], "wamid.OUT1");
    assert_eq!(sent["status"], "sent");
    let attempts = app
        .provider
        .wait_for("both attempts", 2, |request| {
            request.path.ends_with("/messages")
        })
        .await;
    assert_eq!(attempts.len(), 2, "one failed attempt, one retry");
    assert_eq!(
        attempts[0].body, attempts[1].body,
        "the retry sends the same message"
    );
}
