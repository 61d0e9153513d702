//! The storage conformance suite: every test runs once on SQLite and once on PostgreSQL, so
//! both backends keep the same contract.
//!
//! SQLite tests get a fresh database file in a temporary directory. PostgreSQL tests get a
//! fresh schema (`t_<random>`) in the database named by `SWITCHYARD_TEST_DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`), selected through the URL's
//! `options=-csearch_path%3D...`; the schema is dropped when the test passes.

// A test fails loudly at the first unexpected error; that is what `unwrap` is for here.
#![allow(clippy::unwrap_used)]

use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use switchyard_engine::channel::{ApiChannel, Channel, WhatsappChannel};
use switchyard_engine::contact::{Contact, ContactInbox, ContactProfile};
use switchyard_engine::conversation::{Conversation, ConversationStatus};
use switchyard_engine::event::{Event, EventKind};
use switchyard_engine::message::{
    Attachment, ContentType, FileType, Message, MessageStatus, MessageType, Sender,
};
use switchyard_engine::secret::Secret;
use switchyard_engine::user::Role;
use switchyard_engine::{AccountId, ConversationId, InboxId, MessageId, Timestamp, UserId};
use switchyard_storage::{
    AssigneeFilter, ConversationQuery, EventSink, IdAllocator, IdSequence, MessagePage,
    NewConversation, NewInbox, NewUser, StorageError, Store, StoreConfig, Write, WriteRequest,
    WriterPool,
};

/// Declares each test once per backend: `sqlite::name` and `postgres::name`.
macro_rules! conformance {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let database = super::TestDatabase::sqlite().await;
                    super::$test(database.store.clone()).await;
                    database.finish().await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let database = super::TestDatabase::postgres().await;
                    super::$test(database.store.clone()).await;
                    database.finish().await;
                }
            )+
        }
    };
}

conformance!(
    migrating_twice_is_a_no_op,
    reserved_id_blocks_start_at_one_and_never_overlap,
    racing_resolutions_of_one_customer_create_one_contact,
    a_known_email_or_identifier_reuses_the_contact_with_a_new_identity,
    display_ids_count_from_one_in_each_account,
    committed_messages_conversations_and_events_read_back_unchanged,
    the_last_of_several_changes_in_one_batch_wins,
    a_retried_incoming_message_is_stored_once,
    text_with_a_nul_character_is_stored_with_a_replacement_character,
    an_outgoing_message_may_share_a_provider_id_with_an_incoming_one,
    message_pages_follow_created_at_then_id,
    conversation_listings_filter_and_count,
    a_taken_email_is_a_conflict,
    a_channel_connected_twice_is_a_conflict,
    users_are_found_by_their_tokens_and_email,
    memberships_keep_the_latest_role,
    inboxes_are_found_by_their_channel,
    conversations_of_a_contact_inbox_come_newest_first,
    the_last_visible_message_skips_notes_and_activities,
    concurrent_writes_are_all_durable_and_share_commits,
    events_reach_the_sink_in_each_conversations_order,
);

async fn migrating_twice_is_a_no_op(store: Store) {
    let account = store.create_account("Acme", "en").await.unwrap();

    store.migrate().await.unwrap();

    assert_eq!(store.account(account.id).await.unwrap(), Some(account));
    store.ping().await.unwrap();
}

async fn reserved_id_blocks_start_at_one_and_never_overlap(store: Store) {
    let first = store.reserve_ids(IdSequence::Message, 10).await.unwrap();

    let blocks =
        futures::future::join_all((0..20).map(|_| store.reserve_ids(IdSequence::Message, 100)))
            .await;

    assert_eq!(first, 1..11);
    let mut blocks: Vec<_> = blocks.into_iter().map(Result::unwrap).collect();
    blocks.sort_by_key(|block| block.start);
    assert_eq!(blocks[0].start, 11);
    for pair in blocks.windows(2) {
        assert_eq!(
            pair[0].end, pair[1].start,
            "blocks are disjoint and leave no gap"
        );
    }
}

async fn a_known_email_or_identifier_reuses_the_contact_with_a_new_identity(store: Store) {
    let fixture = Fixture::new(&store).await;
    let first = ContactProfile {
        source_id: "session-1".into(),
        name: Some("Grace".into()),
        email: Some("grace@example.com".into()),
        identifier: Some("crm-42".into()),
        ..ContactProfile::default()
    };
    let same_email = ContactProfile {
        source_id: "session-2".into(),
        email: Some("grace@example.com".into()),
        ..ContactProfile::default()
    };
    let same_identifier = ContactProfile {
        source_id: "session-3".into(),
        identifier: Some("crm-42".into()),
        ..ContactProfile::default()
    };
    let stranger = ContactProfile {
        source_id: "session-4".into(),
        email: Some("alan@example.com".into()),
        ..ContactProfile::default()
    };

    let mut resolved = Vec::new();
    for profile in [&first, &same_email, &same_identifier, &stranger] {
        resolved.push(
            store
                .resolve_contact(fixture.account, fixture.inbox, profile)
                .await
                .unwrap(),
        );
    }

    let contact_ids: Vec<_> = resolved.iter().map(|(contact, _)| contact.id).collect();
    assert_eq!(contact_ids[0], contact_ids[1], "same e-mail, same contact");
    assert_eq!(
        contact_ids[0], contact_ids[2],
        "same identifier, same contact"
    );
    assert_ne!(
        contact_ids[0], contact_ids[3],
        "another e-mail, another contact"
    );
    let identities: HashSet<_> = resolved.iter().map(|(_, inbox)| inbox.id).collect();
    assert_eq!(
        identities.len(),
        4,
        "each source id is its own contact inbox"
    );
    assert_eq!(resolved[0].0.identifier.as_deref(), Some("crm-42"));
}

async fn racing_resolutions_of_one_customer_create_one_contact(store: Store) {
    let fixture = Fixture::new(&store).await;
    let profile = ContactProfile {
        source_id: "15550001111".into(),
        name: Some("Ada".into()),
        phone_number: Some("+15550001111".into()),
        ..ContactProfile::default()
    };

    let racers = (0..20).map(|_| {
        let (store, profile) = (store.clone(), profile.clone());
        tokio::spawn(async move {
            store
                .resolve_contact(fixture.account, fixture.inbox, &profile)
                .await
        })
    });
    let results = futures::future::join_all(racers).await;

    let results: Vec<(Contact, ContactInbox)> = results
        .into_iter()
        .map(|joined| joined.unwrap().unwrap())
        .collect();
    let contacts: HashSet<_> = results.iter().map(|(contact, _)| contact.id).collect();
    let contact_inboxes: HashSet<_> = results.iter().map(|(_, inbox)| inbox.id).collect();
    assert_eq!(contacts.len(), 1, "every racer got the same contact");
    assert_eq!(
        contact_inboxes.len(),
        1,
        "every racer got the same contact inbox"
    );
    let stored = store
        .contact_inbox(fixture.inbox, "15550001111")
        .await
        .unwrap();
    assert_eq!(stored, Some(results[0].clone()));
    assert_eq!(results[0].0.name, "Ada");
    assert_eq!(results[0].1.pubsub_token.len(), 24);
}

async fn display_ids_count_from_one_in_each_account(store: Store) {
    let first = Fixture::new(&store).await;
    let second = Fixture::new(&store).await;

    let new = first.new_conversation();
    let created = futures::future::join_all((0..3).map(|_| store.create_conversation(&new))).await;
    let other = store
        .create_conversation(&second.new_conversation())
        .await
        .unwrap();

    let mut display_ids: Vec<i64> = created
        .into_iter()
        .map(|conversation| conversation.unwrap().display_id)
        .collect();
    display_ids.sort_unstable();
    assert_eq!(display_ids, [1, 2, 3]);
    assert_eq!(other.display_id, 1);
    let found = store
        .conversation_by_display_id(second.account, 1)
        .await
        .unwrap();
    assert_eq!(found, Some(other));
}

async fn committed_messages_conversations_and_events_read_back_unchanged(store: Store) {
    let fixture = Fixture::new(&store).await;
    let mut conversation = store
        .create_conversation(&fixture.new_conversation())
        .await
        .unwrap();
    let agent = fixture.agent(&store).await;
    let rich = rich_message(&conversation, agent);
    let bare = Message {
        id: MessageId(rich.id.0 + 1),
        content: None,
        content_attributes: json!({}),
        source_id: None,
        sender: Sender::System,
        echo_id: None,
        attachments: Vec::new(),
        message_type: MessageType::Activity,
        private: false,
        ..rich.clone()
    };
    change_every_field(&mut conversation, agent);
    let event = event(
        &conversation,
        1,
        json!({ "id": rich.id, "content": "hello", "n": 1.5 }),
    );

    let writes = [
        Write::InsertMessage(rich.clone()),
        Write::InsertMessage(bare.clone()),
        Write::SaveConversation(conversation.clone()),
        Write::AppendEvent(event.clone()),
    ];
    store
        .commit(&writes.iter().collect::<Vec<_>>())
        .await
        .unwrap();

    assert_eq!(store.message(rich.id).await.unwrap(), Some(rich.clone()));
    assert_eq!(store.message(bare.id).await.unwrap(), Some(bare));
    assert_eq!(
        store.conversation(conversation.id).await.unwrap(),
        Some(conversation.clone())
    );
    assert_eq!(
        store.events_after(conversation.id, 0, 10).await.unwrap(),
        vec![event]
    );

    let mut updated = rich.clone();
    updated.status = MessageStatus::Read;
    updated.source_id = Some("wamid.updated".into());
    updated.content = Some("edited".into());
    updated.content_attributes = json!({ "deleted": true });
    updated.updated_at = Timestamp(rich.updated_at.0 + 5);
    let update = Write::UpdateMessage(updated.clone());
    store.commit(&[&update]).await.unwrap();
    assert_eq!(store.message(rich.id).await.unwrap(), Some(updated));
}

async fn the_last_of_several_changes_in_one_batch_wins(store: Store) {
    let fixture = Fixture::new(&store).await;
    let mut conversations = Vec::new();
    for _ in 0..40 {
        conversations.push(
            store
                .create_conversation(&fixture.new_conversation())
                .await
                .unwrap(),
        );
    }
    let first = conversations[0].clone();
    let inserted = incoming(&first, fixture.contact, 1, 100, Some("wamid.batch"));
    let delivered = Message {
        status: MessageStatus::Delivered,
        ..inserted.clone()
    };
    let read = Message {
        status: MessageStatus::Read,
        ..inserted.clone()
    };
    let mut writes = vec![
        Write::InsertMessage(inserted),
        Write::UpdateMessage(delivered),
    ];
    // Enough statements that the pipeline holds more than a handful of requests.
    for (index, conversation) in conversations.iter_mut().enumerate() {
        conversation.unread_count = index as i64;
        writes.push(Write::SaveConversation(conversation.clone()));
    }
    conversations[0].unread_count = 99;
    writes.push(Write::SaveConversation(conversations[0].clone()));
    writes.push(Write::UpdateMessage(read.clone()));

    store
        .commit(&writes.iter().collect::<Vec<_>>())
        .await
        .unwrap();

    assert_eq!(store.message(read.id).await.unwrap(), Some(read));
    assert_eq!(
        store.conversation(first.id).await.unwrap(),
        Some(conversations[0].clone())
    );
    let last = conversations.last().unwrap();
    assert_eq!(
        store
            .conversation(last.id)
            .await
            .unwrap()
            .unwrap()
            .unread_count,
        39
    );
}

async fn a_retried_incoming_message_is_stored_once(store: Store) {
    let fixture = Fixture::new(&store).await;
    let conversation = store
        .create_conversation(&fixture.new_conversation())
        .await
        .unwrap();
    let first = incoming(&conversation, fixture.contact, 1, 100, Some("wamid.same"));
    let retry_later = incoming(&conversation, fixture.contact, 2, 200, Some("wamid.same"));
    let retry_in_batch = incoming(&conversation, fixture.contact, 3, 300, Some("wamid.same"));

    let batch = [
        Write::InsertMessage(first.clone()),
        Write::InsertMessage(retry_in_batch),
    ];
    store
        .commit(&batch.iter().collect::<Vec<_>>())
        .await
        .unwrap();
    store
        .commit(&[&Write::InsertMessage(retry_later)])
        .await
        .unwrap();

    let stored = store
        .messages(conversation.id, MessagePage::Latest { limit: 10 })
        .await
        .unwrap();
    assert_eq!(stored, vec![first.clone()]);
    let found = store
        .message_by_source_id(fixture.inbox, "wamid.same")
        .await
        .unwrap();
    assert_eq!(found, Some(first));
}

async fn text_with_a_nul_character_is_stored_with_a_replacement_character(store: Store) {
    let fixture = Fixture::new(&store).await;
    let conversation = store
        .create_conversation(&fixture.new_conversation())
        .await
        .unwrap();
    let mut message = incoming(&conversation, fixture.contact, 1, 100, Some("wamid.nul"));
    message.content = Some("before\u{0}after".into());

    store
        .commit(&[&Write::InsertMessage(message)])
        .await
        .unwrap();

    let stored = store
        .messages(conversation.id, MessagePage::Latest { limit: 10 })
        .await
        .unwrap();
    assert_eq!(stored[0].content.as_deref(), Some("before\u{FFFD}after"));
}

async fn an_outgoing_message_may_share_a_provider_id_with_an_incoming_one(store: Store) {
    let fixture = Fixture::new(&store).await;
    let conversation = store
        .create_conversation(&fixture.new_conversation())
        .await
        .unwrap();
    let customer = incoming(&conversation, fixture.contact, 1, 100, Some("shared"));
    let reply = Message {
        message_type: MessageType::Outgoing,
        sender: Sender::System,
        ..incoming(&conversation, fixture.contact, 2, 200, Some("shared"))
    };

    let batch = [
        Write::InsertMessage(customer.clone()),
        Write::InsertMessage(reply.clone()),
    ];
    store
        .commit(&batch.iter().collect::<Vec<_>>())
        .await
        .unwrap();

    let stored = store
        .messages(conversation.id, MessagePage::Latest { limit: 10 })
        .await
        .unwrap();
    assert_eq!(stored, vec![customer.clone(), reply.clone()]);
    let by_id = store
        .message_by_source_id(fixture.inbox, "shared")
        .await
        .unwrap();
    assert_eq!(by_id, Some(customer), "dedupe finds the customer's message");
    let sent = store
        .sent_message_by_source_id(fixture.inbox, "shared")
        .await
        .unwrap();
    assert_eq!(sent, Some(reply), "delivery reports find the reply");
}

async fn message_pages_follow_created_at_then_id(store: Store) {
    let fixture = Fixture::new(&store).await;
    let conversation = store
        .create_conversation(&fixture.new_conversation())
        .await
        .unwrap();
    let other = store
        .create_conversation(&fixture.new_conversation())
        .await
        .unwrap();
    // (id, created_at): three messages share a timestamp, and ids do not follow time.
    let layout = [(6, 40), (1, 10), (4, 20), (2, 30), (5, 20), (3, 20)];
    let writes: Vec<Write> = layout
        .iter()
        .map(|&(id, at)| {
            Write::InsertMessage(incoming(&conversation, fixture.contact, id, at, None))
        })
        .chain([Write::InsertMessage(incoming(
            &other,
            fixture.contact,
            7,
            25,
            None,
        ))])
        .collect();
    store
        .commit(&writes.iter().collect::<Vec<_>>())
        .await
        .unwrap();
    let page = |page| {
        let store = store.clone();
        async move {
            let messages = store.messages(conversation.id, page).await.unwrap();
            messages
                .iter()
                .map(|message| message.id.0)
                .collect::<Vec<_>>()
        }
    };

    assert_eq!(
        page(MessagePage::Latest { limit: 10 }).await,
        [1, 3, 4, 5, 2, 6]
    );
    assert_eq!(page(MessagePage::Latest { limit: 3 }).await, [5, 2, 6]);
    assert_eq!(
        page(MessagePage::Before {
            id: MessageId(4),
            limit: 2
        })
        .await,
        [1, 3]
    );
    assert_eq!(
        page(MessagePage::Before {
            id: MessageId(5),
            limit: 2
        })
        .await,
        [3, 4]
    );
    assert_eq!(
        page(MessagePage::After {
            id: MessageId(3),
            limit: 2
        })
        .await,
        [4, 5]
    );
    assert_eq!(
        page(MessagePage::After {
            id: MessageId(6),
            limit: 2
        })
        .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        page(MessagePage::Before {
            id: MessageId(7),
            limit: 5
        })
        .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        page(MessagePage::After {
            id: MessageId(99),
            limit: 5
        })
        .await,
        Vec::<i64>::new()
    );
}

async fn conversation_listings_filter_and_count(store: Store) {
    let fixture = Fixture::new(&store).await;
    let second_inbox = fixture.api_inbox(&store, "second").await;
    let (viewer, colleague) = (fixture.agent(&store).await, fixture.agent(&store).await);
    // (inbox, status, assignee, last activity)
    let layout = [
        (fixture.inbox, ConversationStatus::Open, Some(viewer), 10),
        (fixture.inbox, ConversationStatus::Open, None, 30),
        (second_inbox, ConversationStatus::Open, Some(colleague), 20),
        (
            fixture.inbox,
            ConversationStatus::Resolved,
            Some(viewer),
            40,
        ),
    ];
    let mut ids = Vec::new();
    for (inbox, status, assignee, activity) in layout {
        let new = NewConversation {
            inbox_id: inbox,
            ..fixture.new_conversation()
        };
        let mut conversation = store.create_conversation(&new).await.unwrap();
        conversation.status = status;
        conversation.assignee_id = assignee;
        conversation.last_activity_at = Timestamp(activity);
        store
            .commit(&[&Write::SaveConversation(conversation.clone())])
            .await
            .unwrap();
        ids.push(conversation.id.0);
    }
    let query = ConversationQuery {
        account_id: fixture.account,
        viewer,
        status: Some(ConversationStatus::Open),
        assignee: AssigneeFilter::All,
        inbox_id: None,
        visible_inboxes: None,
        page: 1,
        per_page: 25,
    };
    let list = |query: ConversationQuery| {
        let store = store.clone();
        async move { store.list_conversations(&query).await.unwrap() }
    };

    let open = list(query.clone()).await;
    let mine = list(ConversationQuery {
        assignee: AssigneeFilter::Me(viewer),
        ..query.clone()
    })
    .await;
    let unassigned = list(ConversationQuery {
        assignee: AssigneeFilter::Unassigned,
        ..query.clone()
    })
    .await;
    let assigned = list(ConversationQuery {
        assignee: AssigneeFilter::Assigned,
        ..query.clone()
    })
    .await;
    let one_inbox = list(ConversationQuery {
        inbox_id: Some(second_inbox),
        ..query.clone()
    })
    .await;
    let visible = list(ConversationQuery {
        visible_inboxes: Some(vec![fixture.inbox]),
        ..query.clone()
    })
    .await;
    let nothing_visible = list(ConversationQuery {
        visible_inboxes: Some(vec![]),
        ..query.clone()
    })
    .await;
    let every_status = list(ConversationQuery {
        status: None,
        ..query.clone()
    })
    .await;
    let second_page = list(ConversationQuery {
        page: 2,
        per_page: 2,
        ..query.clone()
    })
    .await;

    let listed = |page: &switchyard_storage::ConversationPage| -> Vec<i64> {
        page.conversations
            .iter()
            .map(|conversation| conversation.id.0)
            .collect()
    };
    let counts = |page: &switchyard_storage::ConversationPage| {
        (
            page.all_count,
            page.mine_count,
            page.assigned_count,
            page.unassigned_count,
        )
    };
    assert_eq!(
        listed(&open),
        [ids[1], ids[2], ids[0]],
        "most recent activity first"
    );
    assert_eq!(counts(&open), (3, 1, 2, 1));
    assert_eq!(listed(&mine), [ids[0]]);
    assert_eq!(
        counts(&mine),
        (3, 1, 2, 1),
        "counts ignore the assignee filter"
    );
    assert_eq!(listed(&unassigned), [ids[1]]);
    assert_eq!(listed(&assigned), [ids[2], ids[0]]);
    assert_eq!(listed(&one_inbox), [ids[2]]);
    assert_eq!(counts(&one_inbox), (1, 0, 1, 0));
    assert_eq!(listed(&visible), [ids[1], ids[0]]);
    assert_eq!(counts(&visible), (2, 1, 1, 1));
    assert_eq!(counts(&nothing_visible), (0, 0, 0, 0));
    assert_eq!(listed(&every_status), [ids[3], ids[1], ids[2], ids[0]]);
    assert_eq!(counts(&every_status), (4, 2, 3, 1));
    assert_eq!(listed(&second_page), [ids[0]]);
}

async fn a_taken_email_is_a_conflict(store: Store) {
    store
        .create_user(&new_user("ada@example.com"))
        .await
        .unwrap();

    let again = store.create_user(&new_user("ADA@example.com")).await;

    match again {
        Err(StorageError::Conflict(what)) => assert!(what.contains("ADA@example.com"), "{what}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn a_channel_connected_twice_is_a_conflict(store: Store) {
    let fixture = Fixture::new(&store).await;
    let first = whatsapp_inbox(fixture.account, "+1 555-0100");
    store.create_inbox(&first).await.unwrap();

    let again = store
        .create_inbox(&whatsapp_inbox(fixture.account, "15550100"))
        .await;
    let api_again = store
        .create_inbox(&api_inbox(fixture.account, &fixture.identifier))
        .await;
    let mut same_connection = whatsapp_inbox(fixture.account, "+1 555-0199");
    if let (Channel::Whatsapp(copy), Channel::Whatsapp(original)) =
        (&mut same_connection.channel, &first.channel)
    {
        copy.phone_number_id = original.phone_number_id.clone();
    }
    let same_connection = store.create_inbox(&same_connection).await;

    assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    assert!(
        matches!(same_connection, Err(StorageError::Conflict(_))),
        "another number on the same phone_number_id: {same_connection:?}"
    );
    assert!(
        matches!(api_again, Err(StorageError::Conflict(_))),
        "{api_again:?}"
    );
}

async fn users_are_found_by_their_tokens_and_email(store: Store) {
    let user = store
        .create_user(&new_user("grace@example.com"))
        .await
        .unwrap();

    let by_token = store
        .user_by_access_token(user.access_token.expose())
        .await
        .unwrap();
    let by_pubsub = store
        .user_by_pubsub_token(&user.pubsub_token)
        .await
        .unwrap();
    let by_email = store.user_by_email("Grace@Example.com").await.unwrap();
    let by_id = store.user(user.id).await.unwrap();
    let nobody = store.user_by_access_token("not-a-token").await.unwrap();

    assert!(user.access_token.expose().len() >= 24);
    assert_ne!(user.access_token.expose(), user.pubsub_token);
    for found in [by_token, by_pubsub, by_email, by_id] {
        assert_eq!(found.as_ref(), Some(&user));
    }
    assert_eq!(nobody, None);
    let hash = store.password_hash(user.id).await.unwrap();
    assert_eq!(hash.as_deref(), Some("$argon2id$v=19$fake"));
}

async fn memberships_keep_the_latest_role(store: Store) {
    let fixture = Fixture::new(&store).await;
    let user = store
        .create_user(&new_user("lin@example.com"))
        .await
        .unwrap();

    store
        .add_account_user(fixture.account, user.id, Role::Agent)
        .await
        .unwrap();
    let member = store
        .add_account_user(fixture.account, user.id, Role::Administrator)
        .await
        .unwrap();

    assert_eq!(member.role, Role::Administrator);
    assert_eq!(
        store.role_of(fixture.account, user.id).await.unwrap(),
        Some(Role::Administrator)
    );
    assert_eq!(
        store.account_users(fixture.account).await.unwrap(),
        vec![member]
    );
    let accounts = store.accounts_of_user(user.id).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].0.id, fixture.account);
    assert_eq!(accounts[0].1, Role::Administrator);
    assert_eq!(
        store.role_of(AccountId(999_999), user.id).await.unwrap(),
        None
    );
}

async fn inboxes_are_found_by_their_channel(store: Store) {
    let fixture = Fixture::new(&store).await;
    let whatsapp = store
        .create_inbox(&whatsapp_inbox(fixture.account, "+49 30 1234"))
        .await
        .unwrap();
    let agent = fixture.agent(&store).await;

    store
        .add_inbox_members(whatsapp.id, &[agent, agent])
        .await
        .unwrap();
    store
        .add_inbox_members(whatsapp.id, &[agent])
        .await
        .unwrap();

    let api = store
        .inbox_by_api_identifier(&fixture.identifier)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(api.id, fixture.inbox);
    assert_eq!(
        store.inbox_by_whatsapp_number("49301234").await.unwrap(),
        Some(whatsapp.clone())
    );
    assert_eq!(
        store.inbox(whatsapp.id).await.unwrap(),
        Some(whatsapp.clone())
    );
    assert_eq!(
        store.inboxes(fixture.account).await.unwrap(),
        vec![api, whatsapp.clone()]
    );
    assert_eq!(store.inbox_members(whatsapp.id).await.unwrap(), vec![agent]);
    assert_eq!(
        store
            .inboxes_of_member(fixture.account, agent)
            .await
            .unwrap(),
        vec![whatsapp.id]
    );
    assert_eq!(
        store.inbox_by_api_identifier("unknown").await.unwrap(),
        None
    );
}

async fn conversations_of_a_contact_inbox_come_newest_first(store: Store) {
    let fixture = Fixture::new(&store).await;
    let older = store
        .create_conversation(&fixture.new_conversation())
        .await
        .unwrap();
    let newer_start = NewConversation {
        at: Timestamp(older.created_at.0 + 1),
        ..fixture.new_conversation()
    };
    let newer = store.create_conversation(&newer_start).await.unwrap();

    let all = store
        .conversations_of_contact_inbox(fixture.contact_inbox)
        .await
        .unwrap();
    let latest = store
        .latest_conversation(fixture.contact_inbox)
        .await
        .unwrap();
    let (contact, contact_inbox) = store
        .contact_inbox_by_id(fixture.contact_inbox)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(all, vec![newer.clone(), older]);
    assert_eq!(latest, Some(newer));
    assert_eq!(contact_inbox.id, fixture.contact_inbox);
    assert_eq!(store.contact(contact.id).await.unwrap(), Some(contact));
}

async fn the_last_visible_message_skips_notes_and_activities(store: Store) {
    let fixture = Fixture::new(&store).await;
    let conversation = store
        .create_conversation(&fixture.new_conversation())
        .await
        .unwrap();
    let visible = incoming(&conversation, fixture.contact, 1, 10, None);
    let note = Message {
        private: true,
        ..incoming(&conversation, fixture.contact, 2, 20, None)
    };
    let activity = Message {
        message_type: MessageType::Activity,
        sender: Sender::System,
        ..incoming(&conversation, fixture.contact, 3, 30, None)
    };

    let writes = [visible.clone(), note, activity].map(Write::InsertMessage);
    store
        .commit(&writes.iter().collect::<Vec<_>>())
        .await
        .unwrap();

    assert_eq!(
        store.last_visible_message(conversation.id).await.unwrap(),
        Some(visible)
    );
}

async fn concurrent_writes_are_all_durable_and_share_commits(store: Store) {
    let fixture = Fixture::new(&store).await;
    let mut conversations = Vec::new();
    for _ in 0..10 {
        conversations.push(
            store
                .create_conversation(&fixture.new_conversation())
                .await
                .unwrap(),
        );
    }
    let (sink, batches) = recording_sink();
    let pool = WriterPool::start(store.clone(), 2, sink).await.unwrap();
    let ids = Arc::new(IdAllocator::new(store.clone(), IdSequence::Message, 64));

    let writers = (0..200).map(|index: usize| {
        let conversation = conversations[index % conversations.len()].clone();
        let (pool, ids, contact) = (pool.clone(), ids.clone(), fixture.contact);
        tokio::spawn(async move {
            let id = ids.next().await.unwrap();
            let message = incoming(&conversation, contact, id, id, None);
            let event = event(&conversation, index as i64 + 1, json!({ "id": id }));
            let writes = vec![Write::InsertMessage(message), Write::AppendEvent(event)];
            pool.write(conversation.id, writes).await.map(|()| id)
        })
    });
    let written: Vec<i64> = futures::future::join_all(writers)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().unwrap())
        .collect();

    for id in &written {
        assert!(
            store.message(MessageId(*id)).await.unwrap().is_some(),
            "message {id} is durable"
        );
    }
    let batches = batches.lock().unwrap();
    let announced: usize = batches.iter().map(Vec::len).sum();
    assert_eq!(announced, 200, "every event is announced once");
    assert!(
        batches.len() < 200,
        "{} commits for 200 writes",
        batches.len()
    );
    pool.stop();
}

async fn events_reach_the_sink_in_each_conversations_order(store: Store) {
    let fixture = Fixture::new(&store).await;
    let mut conversations = Vec::new();
    for _ in 0..3 {
        conversations.push(
            store
                .create_conversation(&fixture.new_conversation())
                .await
                .unwrap(),
        );
    }
    let (sink, batches) = recording_sink();
    let pool = WriterPool::start(store.clone(), 2, sink).await.unwrap();

    let mut answers = Vec::new();
    for seq in 1..=30 {
        for conversation in &conversations {
            let (done, answer) = tokio::sync::oneshot::channel();
            let writes = vec![Write::AppendEvent(event(
                conversation,
                seq,
                json!({ "seq": seq }),
            ))];
            let request = WriteRequest {
                key: conversation.id,
                writes,
                done: Some(done),
                on_failure: None,
            };
            pool.submit(request).unwrap();
            answers.push(answer);
        }
    }
    for answer in answers {
        answer.await.unwrap().unwrap();
    }

    let mut seen: HashMap<ConversationId, Vec<i64>> = HashMap::new();
    for event in batches.lock().unwrap().iter().flatten() {
        seen.entry(event.conversation_id)
            .or_default()
            .push(event.seq);
    }
    for conversation in &conversations {
        assert_eq!(seen[&conversation.id], (1..=30).collect::<Vec<_>>());
        let stored = store.events_after(conversation.id, 10, 5).await.unwrap();
        assert_eq!(
            stored.iter().map(|event| event.seq).collect::<Vec<_>>(),
            [11, 12, 13, 14, 15]
        );
    }
    pool.stop();
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// An account with an API inbox and one customer on it.
#[derive(Clone, Debug)]
struct Fixture {
    account: AccountId,
    inbox: InboxId,
    identifier: String,
    contact: switchyard_engine::ContactId,
    contact_inbox: i64,
}

impl Fixture {
    async fn new(store: &Store) -> Fixture {
        let account = store.create_account("Acme", "en").await.unwrap().id;
        let identifier = format!("api-{}", random_suffix());
        let inbox = store
            .create_inbox(&api_inbox(account, &identifier))
            .await
            .unwrap()
            .id;
        let profile = ContactProfile {
            source_id: format!("customer-{}", random_suffix()),
            name: Some("Customer".into()),
            ..ContactProfile::default()
        };
        let (contact, contact_inbox) = store
            .resolve_contact(account, inbox, &profile)
            .await
            .unwrap();
        Fixture {
            account,
            inbox,
            identifier,
            contact: contact.id,
            contact_inbox: contact_inbox.id,
        }
    }

    /// Another API inbox in the fixture's account.
    async fn api_inbox(&self, store: &Store, name: &str) -> InboxId {
        let identifier = format!("{name}-{}", random_suffix());
        store
            .create_inbox(&api_inbox(self.account, &identifier))
            .await
            .unwrap()
            .id
    }

    /// A new agent in the fixture's account.
    async fn agent(&self, store: &Store) -> UserId {
        let email = format!("agent-{}@example.com", random_suffix());
        let user = store.create_user(&new_user(&email)).await.unwrap();
        store
            .add_account_user(self.account, user.id, Role::Agent)
            .await
            .unwrap();
        user.id
    }

    fn new_conversation(&self) -> NewConversation {
        NewConversation {
            account_id: self.account,
            inbox_id: self.inbox,
            contact_id: self.contact,
            contact_inbox_id: self.contact_inbox,
            status: ConversationStatus::Open,
            additional_attributes: json!({ "browser": "Firefox" }),
            custom_attributes: json!({}),
            at: Timestamp(1_700_000_000_000_000),
        }
    }
}

fn api_inbox(account: AccountId, identifier: &str) -> NewInbox {
    NewInbox {
        account_id: account,
        name: "API".into(),
        enable_auto_assignment: true,
        lock_to_single_conversation: false,
        channel: Channel::Api(ApiChannel {
            identifier: identifier.to_owned(),
            webhook_url: String::new(),
            hmac_token: Secret::new("hmac"),
        }),
    }
}

fn whatsapp_inbox(account: AccountId, phone_number: &str) -> NewInbox {
    NewInbox {
        account_id: account,
        name: "WhatsApp".into(),
        enable_auto_assignment: false,
        lock_to_single_conversation: true,
        channel: Channel::Whatsapp(WhatsappChannel {
            phone_number: phone_number.to_owned(),
            phone_number_id: format!(
                "id-{}",
                switchyard_engine::channel::phone_digits(phone_number)
            ),
            business_account_id: "5678".into(),
            api_key: Secret::new("key"),
            webhook_verify_token: Secret::new("verify"),
            app_secret: Secret::new("secret"),
        }),
    }
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        name: "Ada Lovelace".into(),
        display_name: Some("Ada".into()),
        email: email.to_owned(),
        password_hash: Some("$argon2id$v=19$fake".into()),
    }
}

/// A plain incoming text message.
fn incoming(
    conversation: &Conversation,
    contact: switchyard_engine::ContactId,
    id: i64,
    created_at: i64,
    source_id: Option<&str>,
) -> Message {
    Message {
        id: MessageId(id),
        account_id: conversation.account_id,
        inbox_id: conversation.inbox_id,
        conversation_id: conversation.id,
        message_type: MessageType::Incoming,
        content_type: ContentType::Text,
        content: Some(format!("message {id}")),
        content_attributes: json!({}),
        private: false,
        status: MessageStatus::Sent,
        source_id: source_id.map(str::to_owned),
        sender: Sender::Contact(contact),
        echo_id: None,
        attachments: Vec::new(),
        created_at: Timestamp(created_at),
        updated_at: Timestamp(created_at),
    }
}

/// A private agent note with every optional field set.
fn rich_message(conversation: &Conversation, agent: UserId) -> Message {
    let mut location = Attachment::new(FileType::Location);
    location.coordinates_lat = Some(52.52);
    location.coordinates_long = Some(13.405);
    location.fallback_title = Some("Berlin".into());
    let mut card = Attachment::new(FileType::Contact);
    card.meta = json!({ "phones": ["+15550100"] });
    card.file_name = Some("card.vcf".into());
    card.data_url = Some("https://files.example.com/card.vcf".into());
    Message {
        id: MessageId(1_000),
        account_id: conversation.account_id,
        inbox_id: conversation.inbox_id,
        conversation_id: conversation.id,
        message_type: MessageType::Outgoing,
        content_type: ContentType::InputSelect,
        content: Some("hello \u{1F44B} 'quoted' $1".into()),
        content_attributes: json!({ "in_reply_to": 7, "items": [{ "title": "a" }] }),
        private: true,
        status: MessageStatus::Delivered,
        source_id: Some("wamid.rich".into()),
        sender: Sender::User(agent),
        echo_id: Some("echo-1".into()),
        attachments: vec![location, card],
        created_at: Timestamp(1_700_000_000_123_456),
        updated_at: Timestamp(1_700_000_000_654_321),
    }
}

fn change_every_field(conversation: &mut Conversation, agent: UserId) {
    conversation.status = ConversationStatus::Snoozed;
    conversation.assignee_id = Some(agent);
    conversation.team_id = Some(4);
    conversation.priority = Some(3);
    conversation.additional_attributes = json!({ "referer": "https://example.com" });
    conversation.custom_attributes = json!({ "tier": "gold", "score": 9.5 });
    conversation.unread_count = 3;
    conversation.waiting_since = Some(Timestamp(11));
    conversation.first_reply_created_at = Some(Timestamp(12));
    conversation.agent_last_seen_at = Some(Timestamp(13));
    conversation.contact_last_seen_at = Some(Timestamp(14));
    conversation.last_activity_at = Timestamp(15);
    conversation.updated_at = Timestamp(16);
    conversation.last_event_seq = 1;
}

fn event(conversation: &Conversation, seq: i64, data: serde_json::Value) -> Event {
    Event {
        account_id: conversation.account_id,
        inbox_id: conversation.inbox_id,
        contact_inbox_id: conversation.contact_inbox_id,
        conversation_id: conversation.id,
        seq,
        kind: EventKind::MessageCreated,
        private: seq % 2 == 0,
        at: Timestamp(seq),
        data,
    }
}

type Batches = Arc<Mutex<Vec<Vec<Event>>>>;

/// A sink that records each batch of events it is given.
fn recording_sink() -> (EventSink, Batches) {
    let batches: Batches = Arc::default();
    let recorder = batches.clone();
    let sink: EventSink = Arc::new(move |events| recorder.lock().unwrap().push(events));
    (sink, batches)
}

// ---------------------------------------------------------------------------------------------
// Databases

/// A migrated store on a database of its own, and how to remove that database.
struct TestDatabase {
    store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Directory(PathBuf),
    Schema { admin_url: String, schema: String },
}

impl TestDatabase {
    async fn sqlite() -> TestDatabase {
        let directory = std::env::temp_dir().join(format!("switchyard-test-{}", random_suffix()));
        let path = directory.join("data").join("switchyard.sqlite3");
        let store = Store::connect(&StoreConfig::Sqlite { path }).await.unwrap();
        store.migrate().await.unwrap();
        TestDatabase {
            store,
            cleanup: Cleanup::Directory(directory),
        }
    }

    async fn postgres() -> TestDatabase {
        let admin_url = std::env::var("SWITCHYARD_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("t_{}", random_suffix());
        admin(&admin_url, &format!("CREATE SCHEMA {schema}")).await;
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
        let store = Store::connect(&StoreConfig::Postgres { url, pool_size: 8 })
            .await
            .unwrap();
        store.migrate().await.unwrap();
        TestDatabase {
            store,
            cleanup: Cleanup::Schema { admin_url, schema },
        }
    }

    /// Removes the database; a failing test skips this and leaves it for inspection.
    async fn finish(self) {
        drop(self.store);
        match self.cleanup {
            Cleanup::Directory(directory) => {
                let _ = std::fs::remove_dir_all(directory);
            }
            Cleanup::Schema { admin_url, schema } => {
                admin(
                    &admin_url,
                    &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
                )
                .await;
            }
        }
    }
}

/// Runs one statement on a connection of its own.
async fn admin(url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL must be running at {url}: {error}"));
    let connection = tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap();
    drop(client);
    let _ = connection.await;
}

fn random_suffix() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}
