//! Operations endpoints: liveness, readiness and Prometheus metrics.

use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

/// The operations routes. Each must be documented in `api/openapi.rs` (checked by its test).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
}

/// The process is up.
#[utoipa::path(
    get,
    path = "/health",
    tag = "Operations",
    responses(
        (status = 200, description = "`ok`", body = String, content_type = "text/plain"),
    )
)]
async fn health() -> &'static str {
    "ok"
}

/// The node can serve: its database answers.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "Operations",
    responses(
        (status = 200, description = "`ready`", body = String, content_type = "text/plain"),
        (
            status = 503,
            description = "`not ready: ` and why the database does not answer",
            body = String,
            content_type = "text/plain"
        ),
    )
)]
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {error}"),
        ),
    }
}

/// Prometheus metrics in the text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "Operations",
    responses(
        (
            status = 200,
            description = "The metrics in Prometheus' text exposition format",
            body = String,
            content_type = "text/plain"
        ),
        (
            status = 404,
            description = "`metrics are disabled`",
            body = String,
            content_type = "text/plain"
        ),
    )
)]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match &state.metrics {
        Some(handle) => (StatusCode::OK, handle.render()),
        None => (StatusCode::NOT_FOUND, "metrics are disabled".to_owned()),
    }
}
