//! The running node serves its OpenAPI document to anyone, without a token.

mod support;

use support::{Backend, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_serves_an_openapi_3_document_of_its_routes() {
    // Arrange
    let app = spawn_app(Backend::Sqlite).await;

    // Act
    let reply = app.get("/api-docs/openapi.json", None).await;

    // Assert
    assert_eq!(reply.status, 200, "the document is served: {}", reply.text);
    let document = reply.json;
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("3."),
        "an OpenAPI 3 document, got {version:?}"
    );
    for path in [
        "/webhooks/whatsapp/{phone_number}",
        "/api/v1/accounts/{account_id}/conversations",
    ] {
        assert!(
            document["paths"].get(path).is_some(),
            "{path} is documented"
        );
    }
}
