//! The HTTP server's accept loop: HTTP/1.1 connections served by hyper with the API's router.
//!
//! A connection costs the daemon about 12 KiB of RSS while it is open, idle or not (hyper's
//! read and write buffers and the connection's task); served by the HTTP/1-or-2 detecting
//! server of `axum::serve` it cost twice that. Clients open more connections when answers slow
//! down (a disk stall) and keep them in their pools long after, so a connection left idle for
//! `idle` is closed (hyper's header read timeout: the wait for the next request's head). The
//! same timeout bounds how long a client may take to send a request's head.

use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serve `app` on `listener` until `shutdown` is cancelled, then let the requests being
/// answered finish. `idle` of zero keeps idle connections open for as long as the client does.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
    idle: Duration,
) -> std::io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new());
    builder.header_read_timeout((!idle.is_zero()).then_some(idle));
    let connections = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    if !is_connection_error(&e) {
                        // Out of descriptors or the like: wait rather than spin.
                        tracing::warn!(error = %e, "accepting a connection");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = connections.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
    Ok(())
}

/// Errors of one connection that is gone before it was accepted, not of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}
