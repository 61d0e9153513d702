//! Switchyard's edges: the Chatwoot-compatible HTTP API, the ActionCable `/cable` endpoint,
//! provider webhooks, outbound provider clients and the operations endpoints.
//!
//! Handlers here translate between the wire and the engine and nothing more: they validate
//! input, hand work to the actors (or read storage), and render Chatwoot's JSON shapes. Every
//! error becomes a response in one place, [`error::ApiError`].

pub mod api;
pub mod auth;
pub mod cable;
pub mod deliver;
pub mod directory;
pub mod error;
pub mod ops;
pub mod state;
pub mod webhooks;
pub mod whatsapp;

use axum::Router;
use axum::extract::DefaultBodyLimit;
pub use state::{AppState, GatewayConfig};
use std::future::Future;
use tokio::net::TcpListener;

/// Every route of the node. Each must be described in [`api::openapi::ApiDoc`] (checked by its
/// test).
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    Router::new()
        .merge(api::routes())
        .merge(webhooks::routes())
        .merge(cable::routes())
        .merge(ops::routes())
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the routes on `listener` until `shutdown` completes, then finishes the requests in
/// flight and returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
