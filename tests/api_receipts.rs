//! Delivery receipts on the API channel: the integrator's system reports what became of an
//! agent's reply, and agents see it; a receipt never moves a status backwards.

mod support;

use serde_json::json;
use support::{Backend, CableClient, WAIT, spawn_app, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_integrator_marks_a_reply_delivered_then_read_and_agents_see_it() {
    // Arrange: a customer conversation on the API inbox, and an agent's reply.
    let app = spawn_app(Backend::Sqlite).await;
    let setup = app.provision().await;
    let (account, agent) = (setup.account_id, &setup.agent);
    let inbox_path = format!("/public/api/v1/inboxes/{}", setup.api_inbox.identifier);
    let contact = app
        .post(
            &format!("{inbox_path}/contacts"),
            None,
            &json!({ "name": "Grace" }),
        )
        .await
        .ok();
    let path = format!(
        "{inbox_path}/contacts/{}/conversations",
        text(&contact["source_id"])
    );
    let display_id = app.post(&path, None, &json!({})).await.ok()["id"]
        .as_i64()
        .expect("a conversation id");
    let reply = app
        .send_reply(account, agent, display_id, "Your parcel left today.", false)
        .await;
    let note = app
        .send_reply(account, agent, display_id, "internal", true)
        .await;
    let mut cable = CableClient::connect(&app, account, agent).await;
    let receipt = |id: &serde_json::Value| {
        format!("/api/v1/accounts/{account}/conversations/{display_id}/messages/{id}")
    };

    // Act
    let token = Some(agent.access_token.as_str());
    let delivered = app
        .patch(
            &receipt(&reply["id"]),
            token,
            &json!({ "status": "delivered" }),
        )
        .await
        .ok();
    let read = app
        .patch(&receipt(&reply["id"]), token, &json!({ "status": "read" }))
        .await
        .ok();
    let backwards = app
        .patch(
            &receipt(&reply["id"]),
            token,
            &json!({ "status": "delivered" }),
        )
        .await
        .ok();
    let on_a_note = app
        .patch(&receipt(&note["id"]), token, &json!({ "status": "read" }))
        .await;
    let nonsense = app
        .patch(&receipt(&reply["id"]), token, &json!({ "status": "sent" }))
        .await;

    // Assert
    assert_eq!(delivered["status"], "delivered");
    assert_eq!(read["status"], "read");
    assert_eq!(
        backwards["status"], "read",
        "a status never moves backwards"
    );
    assert_eq!(on_a_note.status, 422, "{}", on_a_note.text);
    assert_eq!(nonsense.status, 422, "{}", nonsense.text);
    let seen = cable
        .next_event_where("message.updated", |data| data["status"] == "read", WAIT)
        .await;
    assert_eq!(seen["id"], reply["id"]);
}
