//! The HTTP edge of the node: every error is JSON `{"error": ...}`, including those axum would
//! answer in plain text, and only the Client API answers browsers' cross-origin requests.

mod support;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};
use support::{Backend, Settings, TestApp, spawn_app, spawn_app_with};

/// The body limit the server is started with where a test sends too much.
const MAX_BODY_BYTES: usize = 2048;

/// A raw answer: status, headers and body as JSON (`null` if it is not).
struct Answer {
    status: u16,
    headers: HeaderMap,
    json: Value,
}

/// Sends `method path` with `headers` and an optional raw `body`.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Answer {
    let mut request = app.client.request(method, app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("the request is answered");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("the body is readable");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        json,
    }
}

/// Asserts that `answer` is a JSON error with `status`; returns its message.
fn json_error(answer: &Answer, status: u16) -> String {
    assert_eq!(answer.status, status, "{}", answer.json);
    let content_type = answer
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    assert_eq!(content_type, Some("application/json"), "the error is JSON");
    answer.json["error"]
        .as_str()
        .unwrap_or_else(|| panic!("an error message, got {}", answer.json))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_and_query_values_that_do_not_parse_are_refused_in_json() {
    // Arrange
    let app = spawn_app(Backend::Sqlite).await;
    let setup = app.provision().await;
    let token = setup.admin.access_token.as_str();
    let messages = format!(
        "/api/v1/accounts/{}/conversations/1/messages?before=soon",
        setup.account_id
    );

    // Act
    let mut answers = Vec::new();
    for path in [
        "/api/v1/accounts/abc/conversations",
        "/api/v1/accounts/9223372036854775808/conversations",
        messages.as_str(),
    ] {
        let headers = [("api_access_token", token)];
        answers.push(send(&app, Method::GET, path, &headers, None).await);
    }
    let platform_headers = [("api_access_token", app.platform_token.as_str())];
    let platform = send(
        &app,
        Method::GET,
        "/platform/api/v1/users/abc",
        &platform_headers,
        None,
    )
    .await;

    // Assert
    let messages: Vec<String> = answers
        .iter()
        .map(|answer| json_error(answer, 400))
        .collect();
    assert!(
        messages[0].contains("abc"),
        "the value is quoted: {messages:?}"
    );
    assert!(
        messages[2].contains("before"),
        "the parameter is named: {messages:?}"
    );
    json_error(&platform, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_route_is_answered_404_in_json() {
    // Arrange
    let app = spawn_app(Backend::Sqlite).await;

    // Act
    let answer = send(&app, Method::GET, "/x", &[], None).await;

    // Assert
    assert_eq!(json_error(&answer, 404), "no route for GET /x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_the_route_does_not_take_is_answered_405_in_json() {
    // Arrange
    let app = spawn_app(Backend::Sqlite).await;

    // Act
    let application = send(&app, Method::DELETE, "/api/v1/profile", &[], None).await;
    let client = send(
        &app,
        Method::DELETE,
        "/public/api/v1/inboxes/any/contacts",
        &[],
        None,
    )
    .await;

    // Assert
    assert_eq!(
        json_error(&application, 405),
        "DELETE is not allowed on /api/v1/profile"
    );
    json_error(&client, 405);
    let allowed = application
        .headers
        .get("allow")
        .and_then(|v| v.to_str().ok());
    assert!(
        allowed.is_some_and(|methods| methods.contains("GET")),
        "the allowed methods are listed: {allowed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_answered_413_in_json_whatever_the_route_reads() {
    // Arrange
    let settings = Settings {
        max_body_bytes: Some(MAX_BODY_BYTES),
    };
    let app = spawn_app_with(Backend::Sqlite, settings).await;
    let setup = app.provision().await;
    let padding = "x".repeat(MAX_BODY_BYTES * 2);
    let oversized = serde_json::to_vec(&json!({ "name": padding })).expect("JSON encodes");
    let json_type = [("content-type", "application/json")];
    let platform = [
        ("content-type", "application/json"),
        ("api_access_token", app.platform_token.as_str()),
    ];
    let webhook = format!("/webhooks/whatsapp/{}", setup.whatsapp_inbox.phone_number);
    let contacts = format!(
        "/public/api/v1/inboxes/{}/contacts",
        setup.api_inbox.identifier
    );

    // Act: a raw body (the webhook), an optional JSON body (a Client API contact) and a JSON
    // body (a Platform API account).
    let raw = send(
        &app,
        Method::POST,
        &webhook,
        &json_type,
        Some(oversized.clone()),
    )
    .await;
    let optional = send(
        &app,
        Method::POST,
        &contacts,
        &json_type,
        Some(oversized.clone()),
    )
    .await;
    let required = send(
        &app,
        Method::POST,
        "/platform/api/v1/accounts",
        &platform,
        Some(oversized),
    )
    .await;

    // Assert
    let expected = format!("the request body is larger than {MAX_BODY_BYTES} bytes");
    for answer in [raw, optional, required] {
        assert_eq!(json_error(&answer, 413), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_api_answers_a_cors_preflight_from_any_origin() {
    // Arrange
    let app = spawn_app(Backend::Sqlite).await;
    let setup = app.provision().await;
    let contacts = format!(
        "/public/api/v1/inboxes/{}/contacts",
        setup.api_inbox.identifier
    );
    let origin = ("origin", "https://shop.example");

    // Act
    let preflight = send(
        &app,
        Method::OPTIONS,
        &contacts,
        &[
            origin,
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        None,
    )
    .await;
    let read = send(
        &app,
        Method::GET,
        &format!("/public/api/v1/inboxes/{}", setup.api_inbox.identifier),
        &[origin],
        None,
    )
    .await;

    // Assert
    assert!(
        (200..300).contains(&preflight.status),
        "the preflight succeeds: {} {:?}",
        preflight.status,
        preflight.headers
    );
    let header = |answer: &Answer, name: &str| {
        let value = answer.headers.get(name).and_then(|v| v.to_str().ok());
        value.map(str::to_owned)
    };
    assert_eq!(
        header(&preflight, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    let methods = header(&preflight, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "POST is allowed: {methods}");
    let headers = header(&preflight, "access-control-allow-headers").unwrap_or_default();
    assert!(
        headers.contains("content-type"),
        "content-type is allowed: {headers}"
    );
    assert_eq!(read.status, 200, "{}", read.json);
    assert_eq!(
        header(&read, "access-control-allow-origin").as_deref(),
        Some("*")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_api_sends_no_cors_headers() {
    // Arrange
    let app = spawn_app(Backend::Sqlite).await;
    let setup = app.provision().await;
    let origin = ("origin", "https://evil.example");

    // Act
    let preflight = send(
        &app,
        Method::OPTIONS,
        "/api/v1/profile",
        &[origin, ("access-control-request-method", "GET")],
        None,
    )
    .await;
    let read = send(
        &app,
        Method::GET,
        "/api/v1/profile",
        &[origin, ("api_access_token", &setup.admin.access_token)],
        None,
    )
    .await;

    // Assert
    assert_eq!(read.status, 200, "{}", read.json);
    json_error(&preflight, 405);
    for answer in [&preflight, &read] {
        let cors: Vec<_> = answer
            .headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "no CORS headers: {cors:?}");
    }
}
