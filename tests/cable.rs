//! `/cable` presence, as Chatwoot's dashboard expects it: a subscription is answered with who
//! is online, and so is every `update_presence` heartbeat.

mod support;

use serde_json::json;
use support::{Backend, CableClient, WAIT, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_shows_connected_agents_online_and_others_offline() {
    // Arrange: two agents of one account; only the first connects.
    let app = spawn_app(Backend::Sqlite).await;
    let setup = app.provision().await;
    let (account, agent, admin) = (setup.account_id, &setup.agent, &setup.admin);
    let mut cable = CableClient::connect(&app, account, agent).await;

    // Assert: the subscription brought a presence.update.
    let first = cable.next_event("presence.update", WAIT).await;
    assert_eq!(first["account_id"], account);
    assert_eq!(first["users"][agent.id.to_string()], "online");
    assert_eq!(first["users"][admin.id.to_string()], "offline");

    // Act: the administrator connects too, then the agent sends a heartbeat.
    let _admin_cable = CableClient::connect(&app, account, admin).await;
    cable.perform(account, agent, "update_presence").await;

    // Assert
    let update = cable.next_event("presence.update", WAIT).await;
    assert_eq!(update["users"][admin.id.to_string()], "online");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_subscribed_with_their_pubsub_token_sees_replies_but_not_private_notes() {
    // Arrange: a customer of the API inbox with a conversation, watching /cable.
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
    let source_id = support::text(&contact["source_id"]);
    let conversation = app
        .post(
            &format!("{inbox_path}/contacts/{source_id}/conversations"),
            None,
            &json!({}),
        )
        .await
        .ok();
    let display_id = conversation["id"].as_i64().expect("a conversation id");
    let mut customer =
        CableClient::connect_contact(&app, &support::text(&contact["pubsub_token"])).await;

    // Act: a private note, then a reply.
    let path = format!("/api/v1/accounts/{account}/conversations/{display_id}/messages");
    let note = json!({ "content": "internal: VIP customer", "private": true });
    app.post(&path, Some(&agent.access_token), &note).await.ok();
    let reply = json!({ "content": "Hello Grace!" });
    app.post(&path, Some(&agent.access_token), &reply)
        .await
        .ok();

    // Assert: the first message the customer hears of is the reply.
    let heard = customer.next_event("message.created", WAIT).await;
    assert_eq!(heard["content"], "Hello Grace!", "{heard}");
    assert_eq!(heard["message_type"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_token_with_a_user_id_is_rejected() {
    let app = spawn_app(Backend::Sqlite).await;
    let setup = app.provision().await;
    let inbox_path = format!("/public/api/v1/inboxes/{}", setup.api_inbox.identifier);
    let contact = app
        .post(
            &format!("{inbox_path}/contacts"),
            None,
            &json!({ "name": "Mallory" }),
        )
        .await
        .ok();

    let identifier = json!({
        "channel": "RoomChannel",
        "pubsub_token": support::text(&contact["pubsub_token"]),
        "user_id": setup.agent.id,
    });
    let rejected = CableClient::try_subscribe(&app, identifier.to_string()).await;

    assert!(!rejected, "a contact's token cannot act as an agent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_list_shows_each_members_role_and_availability() {
    let app = spawn_app(Backend::Sqlite).await;
    let setup = app.provision().await;
    let (account, agent, admin) = (setup.account_id, &setup.agent, &setup.admin);
    let _online = CableClient::connect(&app, account, agent).await;

    let path = format!("/api/v1/accounts/{account}/agents");
    let agents = app.get(&path, Some(&admin.access_token)).await.ok();

    let find = |id: i64| {
        agents
            .as_array()
            .and_then(|agents| agents.iter().find(|listed| listed["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("agent {id} is listed in {agents}"))
    };
    assert_eq!(find(agent.id)["availability_status"], "online");
    assert_eq!(find(agent.id)["role"], "agent");
    assert_eq!(find(admin.id)["availability_status"], "offline");
    assert_eq!(find(admin.id)["role"], "administrator");
}
