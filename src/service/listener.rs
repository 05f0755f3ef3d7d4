//! The service's HTTP listener: the router served over HTTP/1.1 (hyper) with the limits a
//! service facing the network needs, which a plain `axum::serve` does not set.
//!
//! - A request head must arrive whole within the header-read timeout, or the connection is
//!   closed: a head dribbled a byte at a time holds nothing for long.
//! - A keep-alive connection with no request in flight is closed after the idle timeout.
//! - At most `max_connections` connections are served at once; further ones wait in the
//!   kernel's accept queue until one ends, so idle clients cannot use up the process's file
//!   descriptors (which the database pool and the provider requests need).
//! - On shutdown the listener stops accepting, asks every connection to finish its request in
//!   flight and close, and returns after at most the shutdown timeout whatever they do.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper::service::{Service as _, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// Default `--header-read-timeout`, seconds.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// Default `--idle-timeout`, seconds.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
/// Default `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default `--shutdown-timeout`, seconds.
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 30;
/// Largest request head read (start line and headers).
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// The listener's limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest wait for a whole request head.
    pub header_read_timeout: Duration,
    /// Longest a connection stays open with no request in flight.
    pub idle_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Longest wait, once shutdown starts, for connections to finish.
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(DEFAULT_HEADER_READ_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_timeout: Duration::from_secs(DEFAULT_SHUTDOWN_TIMEOUT_SECS),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains within the limit.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&slots).acquire_owned() => {
                let permit = permit.expect("the semaphore is never closed");
                tokio::select! {
                    () = &mut shutdown => break,
                    accepted = listener.accept() => accepted.map(|(stream, _)| (stream, permit)),
                }
            }
        };
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, permit)) => {
                let (router, limits, stopping) = (router.clone(), limits.clone(), stopping.clone());
                connections.spawn(async move {
                    serve_connection(stream, router, &limits, stopping).await;
                    drop(permit);
                });
            }
            Err(error) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "shutdown timeout reached; closing the remaining connections"
        );
        connections.abort_all();
    }
}

/// Requests in flight on one connection; the guard ends one when dropped (answered or not).
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    /// Bumped at every request's end, so the idle clock restarts.
    ended: tokio::sync::Notify,
}

struct Request(Arc<InFlight>);

impl Request {
    fn begin(in_flight: &Arc<InFlight>) -> Self {
        in_flight.count.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(in_flight))
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::SeqCst);
        self.0.ended.notify_one();
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    router: Router,
    limits: &Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let in_flight = Arc::new(InFlight::default());
    let service = {
        let in_flight = Arc::clone(&in_flight);
        let router = TowerToHyperService::new(router);
        service_fn(move |request| {
            let guard = Request::begin(&in_flight);
            let answer = router.call(request);
            async move {
                let answer = answer.await;
                drop(guard);
                answer
            }
        })
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            () = idle(&in_flight, limits.idle_timeout), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            changed = stopping.changed(), if !closing => {
                if changed.is_err() || *stopping.borrow() {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Resolves once the connection has had no request in flight for `timeout`.
async fn idle(in_flight: &InFlight, timeout: Duration) {
    loop {
        if in_flight.count.load(Ordering::SeqCst) == 0 {
            tokio::select! {
                () = tokio::time::sleep(timeout) => {
                    if in_flight.count.load(Ordering::SeqCst) == 0 {
                        return;
                    }
                }
                () = in_flight.ended.notified() => {}
            }
        } else {
            in_flight.ended.notified().await;
        }
    }
}
