//! Every real WhatsApp Cloud payload of the corpus, posted signed to a running server: each is
//! accepted or refused cleanly, and what is accepted is stored once.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;
use support::{Backend, Provisioned, TestApp, spawn_app, text};

/// The corpus customer whose messages most files carry.
const CUSTOMER: &str = "972987654321";

/// Files whose `phone_number_id` is a `<PLACEHOLDER>` string.
const PLACEHOLDER_FILES: [&str; 2] = [
    "pywa_deleted_message__revoke.json",
    "pywa_message_status__group.json",
];

/// The edit, addressed to another business number.
const EDIT_FILE: &str = "pywa_edited_message__image.json";
/// That number and Meta's id for it.
const EDIT_PHONE_NUMBER: &str = "15550783881";
const EDIT_PHONE_NUMBER_ID: &str = "106540352242922";

/// The longest a webhook may take to be answered.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/whatsapp_cloud")
}

/// The corpus files, in name order, with their bytes.
fn corpus_files() -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("the corpus folder exists")
        .map(|entry| entry.expect("the corpus folder is readable").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 20, "the corpus is complete: {names:?}");
    names
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(corpus_dir().join(&name)).expect("a corpus file is readable");
            (name, bytes)
        })
        .collect()
}

/// The ids of the messages `body` carries from `sender`.
fn message_ids_from(body: &[u8], sender: &str) -> Vec<String> {
    let body: Value = serde_json::from_slice(body).expect("accepted files are JSON");
    let mut ids = Vec::new();
    for entry in body["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            for message in change["value"]["messages"].as_array().into_iter().flatten() {
                if message["from"] == sender {
                    ids.push(text(&message["id"]));
                }
            }
        }
    }
    ids
}

/// The conversations of the account whose customer has the WhatsApp id `wa_id`.
async fn conversations_of(app: &TestApp, setup: &Provisioned, wa_id: &str) -> Vec<Value> {
    app.conversations(setup.account_id, &setup.admin)
        .await
        .into_iter()
        .filter(|conversation| conversation["contact_inbox"]["source_id"] == wa_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_file_is_answered_cleanly_and_stored_once_on_sqlite() {
    every_corpus_file_is_answered_cleanly_and_stored_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_file_is_answered_cleanly_and_stored_once_on_postgres() {
    every_corpus_file_is_answered_cleanly_and_stored_once(Backend::Postgres).await;
}

async fn every_corpus_file_is_answered_cleanly_and_stored_once(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let inbox = &setup.whatsapp_inbox;
    let mut accepted_ids = BTreeSet::new();

    for (file, body) in corpus_files() {
        // Act
        let answer = tokio::time::timeout(ANSWER_WITHIN, app.post_signed(inbox, &body))
            .await
            .unwrap_or_else(|_| panic!("{file}: not answered within {ANSWER_WITHIN:?}"));

        // Assert: refused files get 422, every other file is taken.
        let refused = PLACEHOLDER_FILES.contains(&file.as_str()) || file == EDIT_FILE;
        if refused {
            assert_eq!(answer.status, 422, "{file}: {}", answer.text);
        } else {
            assert_eq!(answer.status, 200, "{file}: {}", answer.text);
            accepted_ids.extend(message_ids_from(&body, CUSTOMER));
        }
    }

    // Assert: one conversation for the customer, one message per distinct accepted id.
    let conversations = conversations_of(&app, &setup, CUSTOMER).await;
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    let display_id = conversations[0]["id"]
        .as_i64()
        .expect("a conversation has an id");
    let messages = app
        .all_messages(setup.account_id, &setup.admin, display_id)
        .await;
    let stored: Vec<String> = messages
        .iter()
        .map(|message| text(&message["source_id"]))
        .collect();
    let distinct: BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(
        stored.len(),
        distinct.len(),
        "no id stored twice: {stored:?}"
    );
    assert_eq!(distinct, accepted_ids);
    assert!(
        messages.iter().all(|message| message["message_type"] == 0),
        "every stored message is the customer's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edit_is_accepted_by_the_number_it_is_addressed_to_on_sqlite() {
    the_edit_is_accepted_by_the_number_it_is_addressed_to(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edit_is_accepted_by_the_number_it_is_addressed_to_on_postgres() {
    the_edit_is_accepted_by_the_number_it_is_addressed_to(Backend::Postgres).await;
}

async fn the_edit_is_accepted_by_the_number_it_is_addressed_to(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let setup = app.provision().await;
    let inbox = app
        .create_whatsapp_inbox(
            setup.account_id,
            &setup.admin,
            EDIT_PHONE_NUMBER,
            EDIT_PHONE_NUMBER_ID,
        )
        .await;
    let body = std::fs::read(corpus_dir().join(EDIT_FILE)).expect("the edit file is readable");
    let sender = "16505551234";

    // Act
    let answer = app.post_signed(&inbox, &body).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.text);
    let conversations = conversations_of(&app, &setup, sender).await;
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    assert_eq!(conversations[0]["inbox_id"], inbox.id);
    let display_id = conversations[0]["id"]
        .as_i64()
        .expect("a conversation has an id");
    let messages = app
        .messages(setup.account_id, &setup.admin, display_id)
        .await;
    let stored: Vec<String> = messages
        .iter()
        .map(|message| text(&message["source_id"]))
        .collect();
    assert_eq!(stored, message_ids_from(&body, sender));
}
