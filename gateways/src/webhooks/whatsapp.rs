//! The WhatsApp Cloud webhook: Meta's subscription check and its signed notifications.
//!
//! Order of checks on a notification: the inbox must exist (404), the signature must match the
//! inbox's app secret (401), the body must be a WhatsApp notification (400) for this number
//! and well-formed (422). Only then is anything handed to the engine, and the answer is 200
//! only once every message it carried is durable. A storage hiccup answers 503 so that Meta
//! retries; the retry stores only what was not stored the first time.

use crate::error::{ApiError, Path, Query, RawBody};
use crate::state::AppState;
use crate::whatsapp::{inbound, signature};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_actors::registry::Ingested;
use switchyard_engine::channel::{Channel, Inbox, WhatsappChannel, phone_digits};

async fn whatsapp_inbox(
    state: &AppState,
    phone_number: &str,
) -> Result<(Inbox, WhatsappChannel), ApiError> {
    let digits = phone_digits(phone_number);
    let inbox = state.inboxes.whatsapp(&state.store, &digits).await?;
    match inbox {
        Some(inbox) => match inbox.channel.clone() {
            Channel::Whatsapp(channel) => Ok((inbox, channel)),
            Channel::Api(_) => Err(ApiError::NotFound("WhatsApp inbox".into())),
        },
        None => Err(ApiError::NotFound(format!(
            "WhatsApp inbox for {phone_number}"
        ))),
    }
}

/// Meta's verification query.
#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    #[serde(rename = "hub.mode", default)]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token", default)]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge", default)]
    challenge: Option<String>,
}

/// `GET`: answers Meta's subscription check with the challenge when the token matches.
#[utoipa::path(
    get,
    path = "/webhooks/whatsapp/{phone_number}",
    operation_id = "verify_whatsapp_subscription",
    tag = "Webhooks",
    params(
        crate::api::openapi::params::WhatsappPath,
        ("hub.mode" = Option<String>, Query, description = "Must be `subscribe`"),
        (
            "hub.verify_token" = Option<String>,
            Query,
            description = "Must be the inbox's `webhook_verify_token`"
        ),
        (
            "hub.challenge" = Option<String>,
            Query,
            description = "Echoed back when the check passes"
        ),
    ),
    responses(
        (
            status = 200,
            description = "The `hub.challenge`, echoed",
            body = String,
            content_type = "text/plain"
        ),
        (
            status = 400,
            description = "`hub.challenge` is missing",
            body = crate::api::openapi::schemas::ErrorBody
        ),
        (
            status = 403,
            description = "`hub.mode` is not `subscribe`, or `hub.verify_token` is not the inbox's",
            body = crate::api::openapi::schemas::ErrorBody
        ),
        (
            status = 404,
            description = "No WhatsApp inbox has this number",
            body = crate::api::openapi::schemas::ErrorBody
        ),
        (
            status = 503,
            description = crate::api::openapi::UNAVAILABLE,
            body = crate::api::openapi::schemas::ErrorBody
        ),
    )
)]
pub async fn verify_subscription(
    State(state): State<AppState>,
    Path(phone_number): Path<String>,
    Query(query): Query<VerifyQuery>,
) -> Result<String, ApiError> {
    let (_, channel) = whatsapp_inbox(&state, &phone_number).await?;
    let token_matches = query.verify_token.as_deref().is_some_and(|token| {
        crate::auth::constant_time_eq(
            token.as_bytes(),
            channel.webhook_verify_token.expose().as_bytes(),
        )
    });
    if query.mode.as_deref() != Some("subscribe") || !token_matches {
        return Err(ApiError::Forbidden(
            "verification failed: hub.mode or hub.verify_token is wrong".into(),
        ));
    }
    query
        .challenge
        .ok_or_else(|| ApiError::BadRequest("hub.challenge is missing".into()))
}

/// `POST`: a signed notification of messages and delivery statuses.
#[utoipa::path(
    post,
    path = "/webhooks/whatsapp/{phone_number}",
    operation_id = "receive_whatsapp_notification",
    tag = "Webhooks",
    params(
        crate::api::openapi::params::WhatsappPath,
        (
            "X-Hub-Signature-256" = String,
            Header,
            description = "`sha256=` and the hex HMAC-SHA256 of the raw body, keyed with the \
                inbox's app secret"
        ),
    ),
    request_body(
        content = crate::api::openapi::schemas::WhatsappNotification,
        content_type = "application/json",
        description = "Meta's notification, signed as sent: the signature covers the exact bytes"
    ),
    responses(
        (
            status = 200,
            description = "Every message and status in the notification is durable",
            body = crate::api::openapi::schemas::WebhookAccepted
        ),
        (
            status = 400,
            description = "The body is not JSON, or not shaped like a WhatsApp notification",
            body = crate::api::openapi::schemas::ErrorBody
        ),
        (
            status = 401,
            description = "The signature is missing, malformed, or not the inbox's app secret's",
            body = crate::api::openapi::schemas::ErrorBody
        ),
        (
            status = 404,
            description = "No WhatsApp inbox has this number",
            body = crate::api::openapi::schemas::ErrorBody
        ),
        (
            status = 413,
            description = crate::api::openapi::TOO_LARGE,
            body = crate::api::openapi::schemas::ErrorBody
        ),
        (
            status = 422,
            description = "The notification is not about a WhatsApp business account, is \
                addressed to another number, or carries a malformed message",
            body = crate::api::openapi::schemas::ErrorBody
        ),
        (
            status = 503,
            description = "Storage or the engine is unavailable; Meta retries, and the retry \
                stores only what was not stored the first time",
            body = crate::api::openapi::schemas::ErrorBody
        ),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    Path(phone_number): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    let (inbox, channel) = whatsapp_inbox(&state, &phone_number).await?;
    let header = headers
        .get(signature::HEADER)
        .and_then(|value| value.to_str().ok());
    signature::verify(channel.app_secret.expose(), &body, header).map_err(|error| {
        metrics::counter!("switchyard_webhooks_rejected_total", "provider" => "whatsapp", "reason" => "signature").increment(1);
        ApiError::Unauthorized(error.to_string())
    })?;
    let batch = inbound::parse(&body, &channel.phone_number_id).map_err(|error| {
        metrics::counter!("switchyard_webhooks_rejected_total", "provider" => "whatsapp", "reason" => "payload").increment(1);
        match error {
            inbound::PayloadError::Json { .. } | inbound::PayloadError::Shape { .. } => {
                ApiError::BadRequest(error.to_string())
            }
            other => ApiError::Unprocessable(other.to_string()),
        }
    })?;
    let (mut stored, mut duplicates) = (0, 0);
    for message in batch.messages {
        match state.registry.ingest(inbox.id, message).await? {
            Ingested::Stored { .. } => stored += 1,
            Ingested::Duplicate => duplicates += 1,
        }
    }
    let statuses = batch.statuses.len();
    for report in batch.statuses {
        state.registry.report_status(inbox.id, report).await?;
    }
    metrics::counter!("switchyard_webhooks_accepted_total", "provider" => "whatsapp").increment(1);
    tracing::debug!(inbox.id = %inbox.id, stored, duplicates, statuses, "whatsapp webhook accepted");
    Ok(Json(
        json!({ "status": "ok", "stored": stored, "duplicates": duplicates, "statuses": statuses }),
    ))
}
