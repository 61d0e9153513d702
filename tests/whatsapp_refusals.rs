//! Webhooks the WhatsApp gateway must refuse: each is answered with the right 4xx, nothing of
//! any of them is stored, and the server keeps serving.

mod support;

use support::{Backend, Settings, now_unix_seconds, sign, spawn_app_with, whatsapp_text};

/// The body limit the server is started with.
const MAX_BODY_BYTES: usize = 4096;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_webhooks_store_nothing_on_sqlite() {
    refused_webhooks_store_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_webhooks_store_nothing_on_postgres() {
    refused_webhooks_store_nothing(Backend::Postgres).await;
}

async fn refused_webhooks_store_nothing(backend: Backend) {
    // Arrange
    let settings = Settings {
        max_body_bytes: Some(MAX_BODY_BYTES),
    };
    let app = spawn_app_with(backend, settings).await;
    let setup = app.provision().await;
    let inbox = &setup.whatsapp_inbox;
    let genuine = whatsapp_text(
        &inbox.phone_number_id,
        "972555000333",
        "wamid.GENUINE",
        now_unix_seconds(),
        "Refund 10 EUR please",
    );
    let genuine_signature = sign(&inbox.app_secret, &genuine);
    let tampered = String::from_utf8(genuine.clone())
        .expect("the body is UTF-8")
        .replace("10 EUR", "10000 EUR")
        .into_bytes();
    let malformed = br#"{"object":"whatsapp_business_account","entry":[{"#.to_vec();
    let oversized = whatsapp_text(
        &inbox.phone_number_id,
        "972555000333",
        "wamid.HUGE",
        now_unix_seconds(),
        &"x".repeat(2 * MAX_BODY_BYTES),
    );

    // Act
    let tampered_answer = app
        .post_whatsapp(&inbox.phone_number, &tampered, Some(&genuine_signature))
        .await;
    let unsigned_answer = app.post_whatsapp(&inbox.phone_number, &genuine, None).await;
    let malformed_answer = app.post_signed(inbox, &malformed).await;
    let oversized_answer = app.post_signed(inbox, &oversized).await;
    let unknown_number_answer = app
        .post_whatsapp("15550000000", &genuine, Some(&genuine_signature))
        .await;

    // Assert: each refusal says what was wrong.
    assert_eq!(tampered_answer.status, 401, "{}", tampered_answer.text);
    assert_eq!(unsigned_answer.status, 401, "{}", unsigned_answer.text);
    assert_eq!(malformed_answer.status, 400, "{}", malformed_answer.text);
    let explanation = malformed_answer.json["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        explanation.contains("JSON"),
        "the error names the JSON problem: {}",
        malformed_answer.text
    );
    assert_eq!(oversized_answer.status, 413, "{}", oversized_answer.text);
    assert_eq!(
        unknown_number_answer.status, 404,
        "{}",
        unknown_number_answer.text
    );

    // Assert: nothing was stored, and the server still serves.
    let conversations = app.conversations(setup.account_id, &setup.admin).await;
    assert!(conversations.is_empty(), "{conversations:?}");
    let health = app.get("/health", None).await;
    assert_eq!(health.status, 200, "{}", health.text);
}
