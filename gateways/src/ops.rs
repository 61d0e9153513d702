//! Operations endpoints: liveness, readiness and Prometheus metrics.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

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
    // A probe must get an answer quickly, even when the database hangs rather than refuses.
    let ping = tokio::time::timeout(READY_TIME_LIMIT, state.store.ping()).await;
    let problem = match ping {
        Ok(Ok(())) => return (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Err(error)) => error.to_string(),
        Err(_) => format!("the database did not answer within {READY_TIME_LIMIT:?}"),
    };
    let body = Json(json!({ "status": "not ready", "error": problem }));
    (StatusCode::SERVICE_UNAVAILABLE, body)
}

/// How long `/ready` waits for the database.
const READY_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

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
