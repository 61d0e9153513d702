//! `/cable` presence, as Chatwoot's dashboard expects it: a subscription is answered with who
//! is online, and so is every `update_presence` heartbeat.

mod support;

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
