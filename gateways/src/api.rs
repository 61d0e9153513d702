//! The Chatwoot-compatible HTTP API: Platform, Application and Client APIs.

pub mod agents;
pub mod conversations;
pub mod inboxes;
pub mod messages;
pub mod openapi;
pub mod platform;
pub mod present;
pub mod profile;
pub mod public;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, patch, post};

/// The API routes, and the OpenAPI document that describes every route of the node.
///
/// Every route here must be documented in `api/openapi.rs` (checked by its test).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api-docs/openapi.json", get(openapi::document))
        .route("/platform/api/v1/accounts", post(platform::create_account))
        .route(
            "/platform/api/v1/accounts/{account_id}",
            get(platform::show_account),
        )
        .route("/platform/api/v1/users", post(platform::create_user))
        .route("/platform/api/v1/users/{user_id}", get(platform::show_user))
        .route(
            "/platform/api/v1/accounts/{account_id}/account_users",
            post(platform::add_account_user).get(platform::list_account_users),
        )
        .route("/api/v1/profile", get(profile::show))
        .route("/api/v1/accounts/{account_id}/agents", get(agents::list))
        .route(
            "/api/v1/profile/availability",
            post(profile::set_availability),
        )
        .route(
            "/api/v1/accounts/{account_id}/inboxes",
            post(inboxes::create).get(inboxes::list),
        )
        .route(
            "/api/v1/accounts/{account_id}/inboxes/{inbox_id}",
            get(inboxes::show),
        )
        .route(
            "/api/v1/accounts/{account_id}/inbox_members",
            post(inboxes::add_members),
        )
        .route(
            "/api/v1/accounts/{account_id}/inbox_members/{inbox_id}",
            get(inboxes::list_members),
        )
        .route(
            "/api/v1/accounts/{account_id}/conversations",
            get(conversations::list),
        )
        .route(
            "/api/v1/accounts/{account_id}/conversations/meta",
            get(conversations::meta),
        )
        .route(
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}",
            get(conversations::show),
        )
        .route(
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}/assignments",
            post(conversations::assign),
        )
        .route(
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}/toggle_status",
            post(conversations::toggle_status),
        )
        .route(
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages",
            get(messages::list).post(messages::create),
        )
        .route(
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages/{message_id}",
            patch(messages::update_status),
        )
        .merge(public::routes())
}
