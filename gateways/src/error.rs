//! The one place where errors become HTTP responses.
//!
//! A client gets a status and a message saying what was wrong with its request. Internal
//! causes are logged here, once, with their chain, and the client sees only that the server
//! failed.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchyard_actors::EngineError;
use switchyard_storage::StorageError;
use thiserror::Error;

/// Why a request failed.
#[derive(Debug, Error)]
pub enum ApiError {
    /// The request is malformed (bad JSON, a missing field); the text says what.
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials without the right to do this.
    #[error("{0}")]
    Forbidden(String),
    /// What the path names does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness rule would be broken.
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed but its content is not acceptable; the text says why.
    #[error("{0}")]
    Unprocessable(String),
    /// A dependency is temporarily unavailable; retrying later may succeed.
    #[error("service unavailable, retry later")]
    Unavailable(String),
    /// Something failed inside the server.
    #[error("internal server error")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(error = %cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(error = %cause, "request deferred"),
            _ => {}
        }
        let status = self.status();
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Conflict(what) => ApiError::Conflict(what),
            StorageError::WriterGone => ApiError::Unavailable(error.to_string()),
            other => ApiError::Unavailable(other.to_string()),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::NotFound(what) => ApiError::NotFound(what.to_owned()),
            EngineError::Invalid(why) => ApiError::Unprocessable(why),
            EngineError::Storage(error) => error.into(),
            EngineError::Unavailable(why) => ApiError::Unavailable(why),
        }
    }
}

/// A JSON request body whose rejection (bad JSON, wrong content type, too large) is reported
/// through [`ApiError`] with the parser's own explanation.
pub struct JsonBody<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => {
                let status = rejection.status();
                let body = Json(json!({ "error": rejection.body_text() }));
                Err((status, body).into_response())
            }
        }
    }
}

/// A JSON request body that may be absent: an empty body reads as `T::default()`.
pub struct OptionalJsonBody<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for OptionalJsonBody<T>
where
    T: serde::de::DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(OptionalJsonBody)
            .map_err(|error| {
                ApiError::BadRequest(format!("invalid JSON body: {error}")).into_response()
            })
    }
}
