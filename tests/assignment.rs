//! Who gets a conversation: online inbox members take turns, and an agent can be assigned by
//! hand, which every watching agent hears about.

mod support;

use serde_json::{Value, json};
use support::{Backend, CableClient, TestApp, WAIT, spawn_app, text};

/// Opens a conversation on the API inbox `identifier` as a new customer named `name`; returns
/// its display id.
async fn new_customer_conversation(app: &TestApp, identifier: &str, name: &str) -> i64 {
    let inbox_path = format!("/public/api/v1/inboxes/{identifier}");
    let contact = app
        .post(
            &format!("{inbox_path}/contacts"),
            None,
            &json!({ "name": name }),
        )
        .await
        .ok();
    let path = format!(
        "{inbox_path}/contacts/{}/conversations",
        text(&contact["source_id"])
    );
    let conversation = app.post(&path, None, &json!({})).await.ok();
    conversation["id"]
        .as_i64()
        .expect("a conversation has an id")
}

/// The id of the conversation's assignee, if any.
fn assignee_id(conversation: &Value) -> Option<i64> {
    conversation["meta"]["assignee"]["id"].as_i64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_members_take_turns_and_an_agent_can_be_assigned_by_hand_on_sqlite() {
    online_members_take_turns_and_an_agent_can_be_assigned_by_hand(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_members_take_turns_and_an_agent_can_be_assigned_by_hand_on_postgres() {
    online_members_take_turns_and_an_agent_can_be_assigned_by_hand(Backend::Postgres).await;
}

async fn online_members_take_turns_and_an_agent_can_be_assigned_by_hand(backend: Backend) {
    // Arrange: an inbox with two members, both online on /cable.
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let account = setup.account_id;
    let admin = &setup.admin;
    let first = setup.agent.clone();
    let second = app.create_user(account, "Barbara Agent", "agent").await;
    let inbox = app
        .create_api_inbox(account, admin, "Round robin", "")
        .await;
    app.add_members(account, admin, inbox.id, &[first.id, second.id])
        .await;
    let _first_online = CableClient::connect(&app, account, &first).await;
    let mut second_online = CableClient::connect(&app, account, &second).await;

    // Act: three customers start conversations.
    let mut conversations = Vec::new();
    for name in ["Carol", "Dave", "Erin"] {
        conversations.push(new_customer_conversation(&app, &inbox.identifier, name).await);
    }

    // Assert: the members took turns.
    let mut assignees = Vec::new();
    for display_id in &conversations {
        let path = format!("/api/v1/accounts/{account}/conversations/{display_id}");
        let conversation = app.get(&path, Some(&admin.access_token)).await.ok();
        assignees.push(assignee_id(&conversation).expect("an online member was assigned"));
    }
    assert_ne!(assignees[0], assignees[1], "turns alternate: {assignees:?}");
    assert_ne!(assignees[1], assignees[2], "turns alternate: {assignees:?}");
    assert_eq!(assignees[0], assignees[2], "turns alternate: {assignees:?}");
    let mut members = vec![first.id, second.id];
    members.sort_unstable();
    let mut picked = assignees[..2].to_vec();
    picked.sort_unstable();
    assert_eq!(picked, members, "both members had a turn");

    // Act: the administrator hands the last conversation to the other agent.
    let last = conversations[2];
    let other = if assignees[2] == first.id {
        second.id
    } else {
        first.id
    };
    let path = format!("/api/v1/accounts/{account}/conversations/{last}/assignments");
    let assigned = app
        .post(
            &path,
            Some(&admin.access_token),
            &json!({ "assignee_id": other }),
        )
        .await
        .ok();

    // Assert: the answer names the agent, agents hear of it, and the conversation shows it.
    assert_eq!(assigned["id"], other, "{assigned}");
    let changed = second_online
        .next_event_where(
            "assignee.changed",
            |data| data["id"] == last && assignee_id(data) == Some(other),
            WAIT,
        )
        .await;
    assert_eq!(changed["inbox_id"], inbox.id);
    let path = format!("/api/v1/accounts/{account}/conversations/{last}");
    let conversation = app.get(&path, Some(&admin.access_token)).await.ok();
    assert_eq!(assignee_id(&conversation), Some(other));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_outside_the_inbox_cannot_be_assigned() {
    // Arrange: a conversation in an inbox the second agent is not a member of.
    let app = spawn_app(Backend::Sqlite).await;
    let setup = app.provision().await;
    let account = setup.account_id;
    let admin = &setup.admin;
    let outsider = app.create_user(account, "Olga Outsider", "agent").await;
    let inbox = app
        .create_api_inbox(account, admin, "Members only", "")
        .await;
    app.add_members(account, admin, inbox.id, &[setup.agent.id])
        .await;
    let conversation = new_customer_conversation(&app, &inbox.identifier, "Carol").await;

    // Act
    let path = format!("/api/v1/accounts/{account}/conversations/{conversation}/assignments");
    let refused = app
        .post(
            &path,
            Some(&admin.access_token),
            &json!({ "assignee_id": outsider.id }),
        )
        .await;
    let accepted = app
        .post(
            &path,
            Some(&admin.access_token),
            &json!({ "assignee_id": admin.id }),
        )
        .await;

    // Assert: the outsider is refused with a reason; an administrator may always take it.
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        text(&refused.json["error"]).contains("not a member"),
        "{}",
        refused.text
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_agent_gets_no_new_conversations() {
    // Arrange: two connected members; the second says they are busy.
    let app = spawn_app(Backend::Sqlite).await;
    let setup = app.provision().await;
    let account = setup.account_id;
    let admin = &setup.admin;
    let available = setup.agent.clone();
    let busy = app.create_user(account, "Bea Busy", "agent").await;
    let inbox = app.create_api_inbox(account, admin, "Busy hour", "").await;
    app.add_members(account, admin, inbox.id, &[available.id, busy.id])
        .await;
    let _available_online = CableClient::connect(&app, account, &available).await;
    let _busy_online = CableClient::connect(&app, account, &busy).await;
    let body = json!({ "profile": { "availability": "busy", "account_id": account } });
    let profile = app
        .post(
            "/api/v1/profile/availability",
            Some(&busy.access_token),
            &body,
        )
        .await
        .ok();
    assert_eq!(profile["availability_status"], "busy");

    // Act
    let mut assignees = Vec::new();
    for name in ["Carol", "Dave", "Erin"] {
        let display_id = new_customer_conversation(&app, &inbox.identifier, name).await;
        let path = format!("/api/v1/accounts/{account}/conversations/{display_id}");
        let conversation = app.get(&path, Some(&admin.access_token)).await.ok();
        assignees.push(assignee_id(&conversation));
    }

    // Assert
    assert_eq!(assignees, vec![Some(available.id); 3]);
    let refused = app
        .post(
            "/api/v1/profile/availability",
            Some(&busy.access_token),
            &json!({ "availability": "napping" }),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
}
