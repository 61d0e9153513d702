//! The one place where errors become HTTP responses.
//!
//! A client gets a status and a message saying what was wrong with its request. Internal
//! causes are logged here, once, with their chain, and the client sees only that the server
//! failed.
//!
//! Every error is JSON `{"error": "..."}`, including the ones axum would answer itself in plain
//! text: handlers take the extractors defined here ([`Path`], [`Query`], [`JsonBody`],
//! [`OptionalJsonBody`], [`RawBody`]) instead of axum's, and the router sends unknown routes
//! and methods to [`no_route`] and [`method_not_allowed`].

use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::time::Duration;
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
    /// No route has this path.
    #[error("no route for {method} {path}")]
    NoRoute {
        /// The request's method.
        method: Method,
        /// The request's path.
        path: String,
    },
    /// The path exists but does not take this method.
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The request's method.
        method: Method,
        /// The request's path.
        path: String,
    },
    /// The client did not send its request, or the server did not answer it, within the time
    /// limit; the text says which.
    #[error("{0}")]
    TimedOut(String),
    /// A uniqueness rule would be broken.
    #[error("{0}")]
    Conflict(String),
    /// The request body is over the configured limit, in bytes.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
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
            ApiError::NotFound(_) | ApiError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
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

/// Answers a request whose path no route has.
pub async fn no_route(method: Method, uri: Uri) -> ApiError {
    let path = uri.path().to_owned();
    ApiError::NoRoute { method, path }
}

/// Answers a request whose path exists but does not take its method. (The router adds the
/// `Allow` header listing the methods it does take.)
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    let path = uri.path().to_owned();
    ApiError::MethodNotAllowed { method, path }
}

/// Gives the bare `408` of the request time limit (`tower_http::timeout::TimeoutLayer`, whose
/// response has no body) the JSON body every other error has. `limit` is that time limit.
pub async fn explain_request_timeout(
    State(limit): State<Duration>,
    response: Response,
) -> Response {
    let bare = !response.headers().contains_key(header::CONTENT_TYPE);
    if response.status() != StatusCode::REQUEST_TIMEOUT || !bare {
        return response;
    }
    let seconds = limit.as_secs_f64();
    ApiError::TimedOut(format!(
        "the request was not answered within {seconds} seconds"
    ))
    .into_response()
}

/// Maps an extractor's rejection to a client error, or to an internal one when axum blames the
/// server (a route whose parameters do not match its handler).
fn rejected(status: StatusCode, text: String) -> ApiError {
    if status.is_server_error() {
        ApiError::Internal(text)
    } else {
        ApiError::BadRequest(text)
    }
}

/// Path parameters, as axum's `Path`, except that a value that does not parse (`abc` or
/// `9223372036854775808` for an integer id) is reported as JSON.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(rejected(rejection.status(), rejection.body_text())),
        }
    }
}

/// A query string, as axum's `Query`, except that a value that does not parse is reported as
/// JSON.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(rejected(rejection.status(), rejection.body_text())),
        }
    }
}

/// The largest request body accepted, in bytes, for the messages of the body extractors. (The
/// limit itself is enforced by the router's `DefaultBodyLimit`, set from the same setting.)
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

impl FromRef<AppState> for BodyLimit {
    fn from_ref(state: &AppState) -> BodyLimit {
        BodyLimit(state.config.max_body_bytes)
    }
}

/// Maps the failure to read a body: over the limit (413), stalled past the body time limit
/// (408), or anything else axum reports (its status and explanation).
fn unreadable_body<R>(rejection: R, status: StatusCode, text: String, limit: BodyLimit) -> ApiError
where
    R: std::error::Error + 'static,
{
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::TooLarge(limit.0);
    }
    let mut causes = std::iter::successors(Some(&rejection as &dyn std::error::Error), |error| {
        error.source()
    });
    if causes.any(|cause| cause.is::<tower_http::timeout::TimeoutError>()) {
        return ApiError::TimedOut("the request body stalled and was not received in time".into());
    }
    rejected(status, text)
}

/// The whole request body, as axum's `Bytes`, for handlers that read it raw (a signature is
/// computed over the exact bytes); a body that cannot be read is reported as JSON.
pub struct RawBody(pub axum::body::Bytes);

impl<S> FromRequest<S> for RawBody
where
    BodyLimit: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(rejection) => {
                let (status, text) = (rejection.status(), rejection.body_text());
                Err(unreadable_body(
                    rejection,
                    status,
                    text,
                    BodyLimit::from_ref(state),
                ))
            }
        }
    }
}

/// A JSON request body whose rejection (bad JSON, wrong content type, too large) is reported
/// as JSON with the parser's own explanation.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    BodyLimit: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(JsonRejection::BytesRejection(rejection)) => {
                let (status, text) = (rejection.status(), rejection.body_text());
                let limit = BodyLimit::from_ref(state);
                Err(unreadable_body(rejection, status, text, limit).into_response())
            }
            // Kept as they are: the content type's 415 has no `ApiError` of its own.
            Err(rejection) => {
                let body = Json(json!({ "error": rejection.body_text() }));
                Err((rejection.status(), body).into_response())
            }
        }
    }
}

/// A JSON request body that may be absent: an empty body reads as `T::default()`.
pub struct OptionalJsonBody<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJsonBody<T>
where
    T: DeserializeOwned + Default,
    BodyLimit: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        // Judged as a present JSON body is: broken JSON is a 400; JSON that is not an object,
        // or an object with fields of the wrong type, is a 422.
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|error| ApiError::BadRequest(format!("invalid JSON body: {error}")))?;
        if !value.is_object() {
            return Err(ApiError::Unprocessable(
                "the JSON body must be an object".into(),
            ));
        }
        serde_json::from_value(value)
            .map(OptionalJsonBody)
            .map_err(|error| ApiError::Unprocessable(format!("invalid JSON body: {error}")))
    }
}
