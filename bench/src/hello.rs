//! The ceiling baseline: a hyper HTTP/1 server that answers every request with
//! "Hello, world!" and does nothing else.
//!
//! Whatever the load generator gets from it on a machine is the most any HTTP
//! server could get there, so Switchyard's figures are read against it.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const GREETING: &[u8] = b"Hello, world!";

/// Binds `listen`, prints the bound address and serves until the process is killed.
pub(crate) async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let local = listener.local_addr().context("reading the bound address")?;

    // The bench script reads this line to learn the port when it asked for port 0.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {local}").context("writing to stdout")?;
    stdout.flush().context("flushing stdout")?;

    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                // Latency figures are meaningless with Nagle delaying small responses.
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream));
            }
            // Running out of file descriptors must not end the baseline: back off and retry.
            Err(error) => {
                eprintln!("hello: accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream) {
    let service = service_fn(|_request: Request<Incoming>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(GREETING))))
    });
    // A client closing its connection mid-request is normal at the end of a run.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
