//! The OpenAPI 3 document of every HTTP route, served at `GET /api-docs/openapi.json`.
//!
//! The document is put together at compile time from the `#[utoipa::path]` attribute on each
//! handler. Handlers render Chatwoot's JSON with `serde_json::json!`, so the response shapes
//! are written out separately in [`schemas`], and the shared path parameters in [`params`].
//! This module describes the routes and must never change what they do.
//!
//! A route registered in the router but missing from [`ApiDoc`] is invisible to anyone reading
//! the document: the test below compares the document's routes with the expected list.

pub mod params;
pub mod schemas;

use crate::auth::TOKEN_HEADER;
use axum::Json;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The security scheme of the Application API: a user's `access_token`.
pub const USER_TOKEN: &str = "userApiKey";
/// The security scheme of the Platform API: the node's platform token.
pub const PLATFORM_TOKEN: &str = "platformAppApiKey";

/// 400 of a route with a JSON body.
pub const NOT_JSON: &str = "The body is not valid JSON";
/// 400 of a route with a JSON body and an integer id in its path.
pub const NOT_JSON_OR_BAD_PATH_ID: &str =
    "The body is not valid JSON, or a path id is not an integer";
/// 400 of a route with an integer id in its path.
pub const BAD_PATH_ID: &str = "A path id is not an integer";
/// 401 of the Platform API.
pub const NO_PLATFORM_TOKEN: &str = "No valid platform token, or the Platform API is disabled";
/// 401 of the Application API.
pub const NO_MEMBER_TOKEN: &str =
    "No valid access token, or the user is not a member of the account";
/// 403 of the routes only administrators may use.
pub const NOT_ADMINISTRATOR: &str = "The user is an agent; only administrators may do this";
/// 413 of a route with a body.
pub const TOO_LARGE: &str = "The body is over the size limit";
/// 415 of a route whose body must be JSON.
pub const NOT_JSON_TYPE: &str = "The body is not sent as `application/json`";
/// 503: a dependency is unavailable for now; retrying later may succeed.
pub const UNAVAILABLE: &str = "Storage or the engine is unavailable; retry later";

/// The document: every route, its parameters, bodies, answers and errors.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard",
        description = "A Chatwoot-compatible customer-conversation engine: the Platform, \
            Application and Client APIs, provider webhooks, the ActionCable `/cable` socket and \
            the operations endpoints.\n\n\
            Errors are JSON `{\"error\": \"...\"}` saying what was wrong with the request, \
            including those of the HTTP layer: an unknown path (404), a method the path does not \
            take (405), a request whose body stalls for 30 seconds or that is not answered within \
            60 (408), a body over the size limit (413). The one exception is `/cable`, whose \
            failed WebSocket upgrades answer in plain text.\n\n\
            The Client API (`/public/api/v1/...`) allows cross-origin requests from any origin."
    ),
    paths(
        crate::api::platform::create_account,
        crate::api::platform::show_account,
        crate::api::platform::create_user,
        crate::api::platform::show_user,
        crate::api::platform::add_account_user,
        crate::api::platform::list_account_users,
        crate::api::profile::show,
        crate::api::agents::list,
        crate::api::profile::set_availability,
        crate::api::inboxes::create,
        crate::api::inboxes::list,
        crate::api::inboxes::show,
        crate::api::inboxes::add_members,
        crate::api::inboxes::list_members,
        crate::api::conversations::list,
        crate::api::conversations::meta,
        crate::api::conversations::show,
        crate::api::conversations::assign,
        crate::api::conversations::toggle_status,
        crate::api::messages::list,
        crate::api::messages::create,
        crate::api::messages::update_status,
        crate::api::public::show_inbox,
        crate::api::public::create_contact,
        crate::api::public::show_contact,
        crate::api::public::create_conversation,
        crate::api::public::list_conversations,
        crate::api::public::show_conversation,
        crate::api::public::create_message,
        crate::api::public::list_messages,
        crate::webhooks::whatsapp::verify_subscription,
        crate::webhooks::whatsapp::receive,
        crate::cable::upgrade,
        crate::ops::health,
        crate::ops::ready,
        crate::ops::metrics,
        document,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "Platform", description = "Provisioning accounts, users and memberships, \
            with the platform token."),
        (name = "Profile", description = "The signed-in user."),
        (name = "Inboxes", description = "An account's inboxes and their members."),
        (name = "Conversations", description = "Listing, assigning and resolving conversations."),
        (name = "Messages", description = "A conversation's messages, replies and private notes."),
        (name = "Client API", description = "The customer side of an API inbox. The inbox and \
            contact identifiers in the path are the credentials; there is no token."),
        (name = "Webhooks", description = "Provider notifications, each verified before it is \
            read."),
        (name = "Realtime", description = "The ActionCable socket the dashboard listens on."),
        (name = "Operations", description = "Liveness, readiness, metrics and this document."),
    )
)]
pub struct ApiDoc;

/// Adds the two ways of filling the `api_access_token` header, which the derive cannot declare.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        let user = "A user's `access_token` (see `GET /api/v1/profile`, or the Platform API's \
                    user creation).";
        let platform = "The node's platform token (`SWITCHYARD_PLATFORM_TOKEN`).";
        for (name, description) in [(USER_TOKEN, user), (PLATFORM_TOKEN, platform)] {
            let key = ApiKeyValue::with_description(TOKEN_HEADER, description);
            components.add_security_scheme(name, SecurityScheme::ApiKey(ApiKey::Header(key)));
        }
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/api-docs/openapi.json",
    operation_id = "openapi_document",
    tag = "Operations",
    responses((status = 200, description = "The OpenAPI 3 document", body = Object))
)]
pub async fn document() -> Json<Document> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeSet;

    /// Every route of the router, as (method, path). Adding a route means adding it here and
    /// to [`ApiDoc`].
    const ROUTES: &[(&str, &str)] = &[
        ("POST", "/platform/api/v1/accounts"),
        ("GET", "/platform/api/v1/accounts/{account_id}"),
        ("POST", "/platform/api/v1/users"),
        ("GET", "/platform/api/v1/users/{user_id}"),
        (
            "POST",
            "/platform/api/v1/accounts/{account_id}/account_users",
        ),
        (
            "GET",
            "/platform/api/v1/accounts/{account_id}/account_users",
        ),
        ("GET", "/api/v1/profile"),
        ("GET", "/api/v1/accounts/{account_id}/agents"),
        ("POST", "/api/v1/profile/availability"),
        ("POST", "/api/v1/accounts/{account_id}/inboxes"),
        ("GET", "/api/v1/accounts/{account_id}/inboxes"),
        ("GET", "/api/v1/accounts/{account_id}/inboxes/{inbox_id}"),
        ("POST", "/api/v1/accounts/{account_id}/inbox_members"),
        (
            "GET",
            "/api/v1/accounts/{account_id}/inbox_members/{inbox_id}",
        ),
        ("GET", "/api/v1/accounts/{account_id}/conversations"),
        ("GET", "/api/v1/accounts/{account_id}/conversations/meta"),
        (
            "GET",
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}",
        ),
        (
            "POST",
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}/assignments",
        ),
        (
            "POST",
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}/toggle_status",
        ),
        (
            "GET",
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages",
        ),
        (
            "POST",
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages",
        ),
        (
            "PATCH",
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages/{message_id}",
        ),
        ("GET", "/public/api/v1/inboxes/{inbox_identifier}"),
        ("POST", "/public/api/v1/inboxes/{inbox_identifier}/contacts"),
        (
            "GET",
            "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}",
        ),
        (
            "POST",
            "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations",
        ),
        (
            "GET",
            "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations",
        ),
        (
            "GET",
            "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations/{conversation_id}",
        ),
        (
            "POST",
            "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations/{conversation_id}/messages",
        ),
        (
            "GET",
            "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations/{conversation_id}/messages",
        ),
        ("GET", "/webhooks/whatsapp/{phone_number}"),
        ("POST", "/webhooks/whatsapp/{phone_number}"),
        ("GET", "/cable"),
        ("GET", "/health"),
        ("GET", "/ready"),
        ("GET", "/metrics"),
        ("GET", "/api-docs/openapi.json"),
    ];

    const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

    fn document_json() -> Value {
        serde_json::to_value(ApiDoc::openapi()).expect("the document serializes")
    }

    /// The (method, path) pairs the document describes.
    fn documented_routes(document: &Value) -> BTreeSet<(String, String)> {
        let paths = document["paths"]
            .as_object()
            .expect("the document has paths");
        let mut routes = BTreeSet::new();
        for (path, item) in paths {
            for method in METHODS.iter().filter(|method| item.get(**method).is_some()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
        routes
    }

    /// Every `$ref` anywhere below `value`.
    fn references(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                if let Some(Value::String(target)) = fields.get("$ref") {
                    found.push(target.clone());
                }
                fields.values().for_each(|field| references(field, found));
            }
            Value::Array(items) => items.iter().for_each(|item| references(item, found)),
            _ => {}
        }
    }

    #[test]
    fn the_document_describes_exactly_the_routes_of_the_router() {
        // Arrange
        let expected: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|(method, path)| (method.to_string(), path.to_string()))
            .collect();

        // Act
        let documented = documented_routes(&document_json());

        // Assert
        let missing: Vec<_> = expected.difference(&documented).collect();
        let unexpected: Vec<_> = documented.difference(&expected).collect();
        assert!(
            missing.is_empty(),
            "routes missing from the document: {missing:?}"
        );
        assert!(
            unexpected.is_empty(),
            "documented but not routed: {unexpected:?}"
        );
    }

    #[test]
    fn every_reference_in_the_document_names_a_component() {
        // Arrange
        let document = document_json();
        let mut found = Vec::new();

        // Act
        references(&document, &mut found);

        // Assert
        assert!(!found.is_empty(), "the document references its schemas");
        for target in found {
            let pointer = target.strip_prefix('#').expect("references are local");
            assert!(
                document.pointer(pointer).is_some(),
                "{target} names nothing in the document"
            );
        }
    }

    #[test]
    fn every_operation_has_its_own_operation_id() {
        // Arrange
        let document = document_json();
        let routes = documented_routes(&document);

        // Act
        let ids: Vec<&str> = routes
            .iter()
            .filter_map(|(method, path)| {
                document["paths"][path][method.to_lowercase()]["operationId"].as_str()
            })
            .collect();

        // Assert
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), routes.len(), "every operation has an id");
        assert_eq!(unique.len(), ids.len(), "operation ids repeat: {ids:?}");
    }

    #[test]
    fn application_and_platform_routes_require_the_access_token() {
        // Arrange
        let document = document_json();

        // Act
        let unprotected: Vec<String> = documented_routes(&document)
            .into_iter()
            .filter(|(_, path)| path.starts_with("/api/") || path.starts_with("/platform/"))
            .filter(|(method, path)| {
                let operation = &document["paths"][path][method.to_lowercase()];
                let schemes = operation["security"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                !schemes.iter().any(|scheme| {
                    scheme.get(USER_TOKEN).is_some() || scheme.get(PLATFORM_TOKEN).is_some()
                })
            })
            .map(|(method, path)| format!("{method} {path}"))
            .collect();

        // Assert
        assert!(unprotected.is_empty(), "no token required: {unprotected:?}");
        let schemes = &document["components"]["securitySchemes"];
        for name in [USER_TOKEN, PLATFORM_TOKEN] {
            assert_eq!(schemes[name]["type"], "apiKey", "{name} is an API key");
            assert_eq!(schemes[name]["in"], "header", "{name} is sent in a header");
            assert_eq!(
                schemes[name]["name"], TOKEN_HEADER,
                "{name} is the token header"
            );
        }
    }
}
