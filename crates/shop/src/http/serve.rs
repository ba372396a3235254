//! The connection loop: HTTP/1.1 over TCP with the peer address attached to every request (rate
//! limits key on it), a deadline for reading a request's headers that also ends idle keep-alive
//! connections (a slowloris client is dropped), and caps on open connections, in all and per
//! client.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::client_ip::ClientIp;

/// How connections are held.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Time allowed to send a request's headers, counted from when the server starts waiting for
    /// them: on a new connection and between the requests of a kept-alive one.
    pub header_read_timeout: Duration,
    /// Connections open at once; beyond it, new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// Connections one client (an IPv4 address, an IPv6 /64) may hold at once; beyond it, its new
    /// connections are closed at once, so that one client cannot take every slot.
    pub max_connections_per_client: usize,
    /// Peers exempt from the per-client cap: trusted reverse proxies carry everybody.
    pub proxies: Vec<IpAddr>,
    /// How long a shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
}

/// Open connections per client.
#[derive(Default)]
struct PerClient(Mutex<HashMap<String, usize>>);

impl PerClient {
    /// Counts a connection for `client`, unless it already holds `max`.
    fn enter(self: &Arc<Self>, client: String, max: usize) -> Option<ClientSlot> {
        let mut open = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(client.clone()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(ClientSlot { table: self.clone(), client })
    }
}

/// One counted connection; uncounted when dropped.
struct ClientSlot {
    table: Arc<PerClient>,
    client: String,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.table.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (for at most `shutdown_grace`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_client = Arc::new(PerClient::default());
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let client_slot = if limits.proxies.contains(&peer.ip().to_canonical()) {
            None
        } else {
            let client = ClientIp::of(peer.ip()).0;
            match per_client.enter(client, limits.max_connections_per_client) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%peer, "closed a connection: the client holds too many");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        // The peer address rides in each request's extensions, where `ClientIp` finds it.
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request.map(Body::new))
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Client errors (resets, header timeouts) end the connection; they are not ours.
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended");
            }
            drop((slot, client_slot));
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await.is_err() {
        tracing::warn!(grace = ?limits.shutdown_grace, "shutting down with requests still in flight");
    }
}
