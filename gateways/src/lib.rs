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
use axum::http::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
pub use state::{AppState, GatewayConfig};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

/// How long a client may take over each part of a request.
///
/// A client that stalls holds a connection, a task and a buffer; without limits a few
/// thousand clients sending a byte now and then ("slowloris") would exhaust the node while
/// costing the attacker almost nothing. Honest clients (browsers, Meta's webhook sender, the
/// dashboard) send a request in one go, so the limits are generous.
#[derive(Clone, Copy, Debug)]
struct TimeLimits {
    /// From the moment the server waits for a request on a connection to the end of its
    /// headers; so also how long an idle keep-alive connection is kept, which a load balancer
    /// in front must undercut with its own idle timeout (or it may reuse a closed connection).
    headers: Duration,
    /// The longest pause between two pieces of a request body. It restarts with each piece,
    /// so a body trickled in just under it is cut off by `request` instead.
    body_idle: Duration,
    /// From the end of the headers to the response: reading the body and running the handler.
    /// A WebSocket upgrade answers at once, so `/cable` sessions are not limited by it.
    request: Duration,
}

/// The limits the node serves with.
const TIME_LIMITS: TimeLimits = TimeLimits {
    headers: Duration::from_secs(30),
    body_idle: Duration::from_secs(30),
    request: Duration::from_secs(60),
};

/// Every route of the node. Each must be described in [`api::openapi::ApiDoc`] (checked by its
/// test).
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let routes = Router::new()
        .merge(api::routes())
        .merge(webhooks::routes())
        .merge(cable::routes())
        .merge(ops::routes())
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit));
    with_time_limits(routes, TIME_LIMITS)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Cuts off a request whose body stalls (`408`, from the body extractors in [`error`]) or that
/// is not answered in time (`408`, given its JSON body by [`error::explain_request_timeout`]).
fn with_time_limits<S>(routes: Router<S>, limits: TimeLimits) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let request_timeout =
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request);
    routes
        .layer(RequestBodyTimeoutLayer::new(limits.body_idle))
        .layer(request_timeout)
        .layer(axum::middleware::map_response_with_state(
            limits.request,
            error::explain_request_timeout,
        ))
}

/// Serves the routes on `listener` until `shutdown` completes, then finishes the requests in
/// flight and returns. A failed connection is that client's problem, and a failed accept is
/// retried, so nothing here stops the server early.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    serve_router(listener, router(state), TIME_LIMITS.headers, shutdown).await;
}

/// Serves `routes` with hyper directly rather than `axum::serve`, which cannot limit how long
/// a client takes to send its headers.
async fn serve_router(
    mut listener: TcpListener,
    routes: Router,
    header_time_limit: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let service = TowerToHyperService::new(routes);
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_time_limit);
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // axum's `Listener::accept` retries failed accepts (pausing when out of descriptors).
        let stream = tokio::select! {
            (stream, _) = axum::serve::Listener::accept(&mut listener) => stream,
            () = &mut shutdown => break,
        };
        let connection =
            builder.serve_connection_with_upgrades(TokioIo::new(stream), service.clone());
        let connection = connections.watch(connection.into_owned());
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "connection ended with an error");
            }
        });
    }

    // Stop accepting, then let every connection finish the request it is serving.
    drop(listener);
    connections.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{BodyLimit, RawBody};
    use axum::routing::{get, post};
    use std::net::SocketAddr;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::{Notify, oneshot};
    use tokio::task::JoinHandle;

    /// Limits short enough for a test to cross them.
    const SHORT: TimeLimits = TimeLimits {
        headers: Duration::from_millis(300),
        body_idle: Duration::from_millis(300),
        request: Duration::from_millis(1500),
    };

    /// How long a test waits for the server to act on a limit.
    const WAIT: Duration = Duration::from_secs(10);

    /// A server on port 0 with `limits`: `POST /echo` answers the body's length, `GET /slow`
    /// answers after two seconds.
    struct TestServer {
        address: SocketAddr,
        /// Notified when `GET /slow` starts.
        slow_started: Arc<Notify>,
        stop: oneshot::Sender<()>,
        task: JoinHandle<()>,
    }

    async fn start(limits: TimeLimits) -> TestServer {
        async fn echo(RawBody(body): RawBody) -> String {
            body.len().to_string()
        }
        let slow_started = Arc::new(Notify::new());
        let started = slow_started.clone();
        let slow = move || async move {
            started.notify_one();
            tokio::time::sleep(Duration::from_secs(2)).await;
            "done"
        };
        let routes = Router::new()
            .route("/echo", post(echo))
            .route("/slow", get(slow));
        let routes = with_time_limits(routes, limits).with_state(BodyLimit(1024));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("port 0 binds");
        let address = listener.local_addr().expect("the listener has an address");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve_router(listener, routes, limits.headers, shutdown));
        TestServer {
            address,
            slow_started,
            stop,
            task,
        }
    }

    /// Writes `request` and reads what the server sends until it closes the connection.
    async fn exchange(address: SocketAddr, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(address)
            .await
            .expect("the server accepts");
        stream
            .write_all(request)
            .await
            .expect("the request is sent");
        let mut answer = Vec::new();
        tokio::time::timeout(WAIT, stream.read_to_end(&mut answer))
            .await
            .expect("the server closes the connection in time")
            .expect("the answer can be read");
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test]
    async fn a_client_that_never_finishes_its_headers_is_disconnected() {
        // Arrange
        let server = start(SHORT).await;

        // Act: the blank line that ends the headers never comes.
        let answer = exchange(server.address, b"GET /slow HTTP/1.1\r\nHost: test\r\n").await;

        // Assert
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "the connection is closed without serving the request: {answer:?}"
        );
    }

    #[tokio::test]
    async fn a_request_body_that_stalls_is_answered_408_in_json() {
        // Arrange
        let server = start(SHORT).await;
        let request = b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\
                        Connection: close\r\n\r\nabc";

        // Act: seven of the ten bytes announced never come.
        let answer = exchange(server.address, request).await;

        // Assert
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("application/json"), "{answer}");
        assert!(
            answer.contains(r#"{"error":"the request body stalled"#),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn a_request_not_answered_in_time_is_answered_408_in_json() {
        // Arrange
        let server = start(SHORT).await;

        // Act
        let answer = exchange(
            server.address,
            b"GET /slow HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        )
        .await;

        // Assert
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("application/json"), "{answer}");
        assert!(
            answer.contains(r#"{"error":"the request was not answered within 1.5 seconds"}"#),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn shutdown_finishes_the_request_in_flight_then_returns() {
        // Arrange
        let limits = TimeLimits {
            request: Duration::from_secs(5),
            ..SHORT
        };
        let server = start(limits).await;
        let request = b"GET /slow HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
        let in_flight = tokio::spawn(exchange(server.address, request));
        tokio::time::timeout(WAIT, server.slow_started.notified())
            .await
            .expect("the request reaches its handler");

        // Act
        let _ = server.stop.send(());

        // Assert
        let answer = in_flight.await.expect("the client does not panic");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("done"), "{answer}");
        tokio::time::timeout(WAIT, server.task)
            .await
            .expect("the server returns once the request is answered")
            .expect("the server does not panic");
        assert!(
            TcpStream::connect(server.address).await.is_err(),
            "no connection is accepted after shutdown"
        );
    }
}
