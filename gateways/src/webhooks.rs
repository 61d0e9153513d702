//! Provider webhook gateways: one route per provider, each verifying the provider's
//! signature before anything else is read.

pub mod whatsapp;

use crate::state::AppState;
use axum::Router;
use axum::routing::get;

/// The webhook routes. Each must be documented in `api/openapi.rs` (checked by its test).
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/webhooks/whatsapp/{phone_number}",
        get(whatsapp::verify_subscription).post(whatsapp::receive),
    )
}
