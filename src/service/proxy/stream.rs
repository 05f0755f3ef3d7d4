//! Bodies through the proxy, both ways, frame by frame: a frame read from one side is handed
//! to the other before the next is read, so memory holds a few frames per call whatever the
//! body's size, and the upstream sees the caller's first bytes while the caller still sends.
//!
//! - The caller's body ([`Outgoing`]) is held whole only when it is small and its length is
//!   declared ([`REPLAYABLE_BODY_BYTES`], `Content-Length`, or no body at all): only such a
//!   body can be sent again after a 401, 429, 503 or network error. Any other is streamed
//!   once ([`Idle`]), counted against the body limit and abandoned when the caller sends
//!   nothing for the idle time; a call with such a body is never retried.
//! - The upstream's answer ([`Idle`]) is streamed back as it arrives, abandoned when the
//!   upstream sends nothing for the idle time.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::Full;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::client::UpstreamBody;

/// Largest body held whole, so that it can be sent again.
pub(crate) const REPLAYABLE_BODY_BYTES: u64 = 64 * 1024;

/// The error a body stream ends with.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a body was abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Abandoned {
    /// It passed the body limit.
    #[error("the body is larger than the limit")]
    TooLarge,
    /// Nothing arrived for the idle time.
    #[error("no bytes arrived for the idle time")]
    Idle,
}

/// A body with an idle timeout (and, for the caller's, a byte limit).
pub(crate) struct Idle<B> {
    inner: B,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
    /// Whether the timer runs: from the moment the body has nothing to give, until a frame.
    waiting: bool,
    /// Bytes still allowed.
    allowed: u64,
    /// The length declared for it, handed on as its size.
    declared: Option<u64>,
    abandoned: Arc<OnceLock<Abandoned>>,
}

impl<B> Idle<B> {
    /// `inner`, abandoned past `limit` bytes or after `idle` without a frame.
    pub(crate) fn new(inner: B, idle: Duration, limit: u64, declared: Option<u64>) -> Self {
        Self {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
            waiting: false,
            allowed: limit,
            declared,
            abandoned: Arc::default(),
        }
    }

    /// Why the body was abandoned, once it was.
    pub(crate) fn abandoned(&self) -> Arc<OnceLock<Abandoned>> {
        Arc::clone(&self.abandoned)
    }

    fn abandon(&mut self, why: Abandoned) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let _ = self.abandoned.set(why);
        Poll::Ready(Some(Err(Box::new(why))))
    }
}

impl<B> HttpBody for Idle<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, |data| data.len() as u64);
                match this.allowed.checked_sub(len) {
                    Some(left) => this.allowed = left,
                    None => return this.abandon(Abandoned::TooLarge),
                }
                this.waiting = false;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if !this.waiting {
                    this.waiting = true;
                    let deadline = Instant::now() + this.idle;
                    this.timer.as_mut().reset(deadline);
                }
                ready!(this.timer.as_mut().poll(cx));
                this.abandon(Abandoned::Idle)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        match self.declared {
            Some(length) => SizeHint::with_exact(length),
            None => self.inner.size_hint(),
        }
    }
}

/// The caller's body for each attempt.
pub(crate) enum Outgoing {
    /// Held whole: sent again as often as needed (empty when the call has none).
    Held(Bytes),
    /// Streamed once; `None` once sent.
    Streamed {
        body: Option<Idle<Body>>,
        abandoned: Arc<OnceLock<Abandoned>>,
    },
}

impl Outgoing {
    /// Reads a small declared body whole (within `idle`), or sets a larger one up to stream.
    /// A declared length past `limit` is refused before anything is read.
    pub(crate) async fn new(body: Body, limit: u64, idle: Duration) -> Result<Outgoing, Abandoned> {
        let declared = body.size_hint().exact();
        if declared.is_some_and(|length| length > limit) {
            return Err(Abandoned::TooLarge);
        }
        match declared {
            Some(length) if length <= REPLAYABLE_BODY_BYTES.min(limit) => {
                // Within the limit hyper holds the caller to its declared length.
                let read = axum::body::to_bytes(body, REPLAYABLE_BODY_BYTES as usize);
                match tokio::time::timeout(idle, read).await {
                    Ok(Ok(bytes)) => Ok(Outgoing::Held(bytes)),
                    Ok(Err(_)) => Err(Abandoned::TooLarge),
                    Err(_) => Err(Abandoned::Idle),
                }
            }
            _ => {
                let upload = Idle::new(body, idle, limit, declared);
                Ok(Outgoing::Streamed {
                    abandoned: upload.abandoned(),
                    body: Some(upload),
                })
            }
        }
    }

    /// Whether the body can be sent again.
    pub(crate) fn replayable(&self) -> bool {
        matches!(self, Outgoing::Held(_))
    }

    /// The body of the next attempt: empty for a call without a body, and for a streamed body
    /// already sent (the caller never asks then, see [`Outgoing::replayable`]).
    pub(crate) fn next(&mut self) -> UpstreamBody {
        match self {
            Outgoing::Held(bytes) if bytes.is_empty() => UpstreamBody::Empty,
            Outgoing::Held(bytes) => UpstreamBody::Held(Full::new(bytes.clone())),
            Outgoing::Streamed { body, .. } => body
                .take()
                .map_or(UpstreamBody::Empty, UpstreamBody::Streamed),
        }
    }

    /// Why a streamed body was abandoned, if it was.
    pub(crate) fn abandoned(&self) -> Option<Abandoned> {
        match self {
            Outgoing::Held(_) => None,
            Outgoing::Streamed { abandoned, .. } => abandoned.get().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body of these parts, its length not declared.
    fn chunks(parts: &[&'static str]) -> Body {
        Body::new(Chunks(
            parts.iter().map(|part| Bytes::from(*part)).collect(),
        ))
    }

    struct Chunks(std::collections::VecDeque<Bytes>);

    impl HttpBody for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(
                self.get_mut()
                    .0
                    .pop_front()
                    .map(|part| Ok(Frame::data(part))),
            )
        }
    }

    #[tokio::test]
    async fn a_small_declared_body_is_held_and_sent_again() {
        let mut body = Outgoing::new(Body::from("hello"), 1024, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(body.replayable());
        for _ in 0..2 {
            let bytes = body.next().collect().await.unwrap().to_bytes();
            assert_eq!(bytes, "hello");
        }
        let mut empty = Outgoing::new(Body::empty(), 1024, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(empty.replayable());
        assert!(
            matches!(empty.next(), UpstreamBody::Empty),
            "no body is sent as none"
        );
    }

    #[tokio::test]
    async fn a_body_of_unknown_length_streams_once_within_the_limit() {
        let mut body = Outgoing::new(chunks(&["ab", "cd"]), 4, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(!body.replayable());
        let bytes = body.next().collect().await.unwrap().to_bytes();
        assert_eq!(bytes, "abcd");
        assert!(matches!(body.next(), UpstreamBody::Empty), "sent once");

        let mut over = Outgoing::new(chunks(&["ab", "cde"]), 4, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(over.next().collect().await.is_err());
        assert_eq!(over.abandoned(), Some(Abandoned::TooLarge));
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_is_abandoned_after_the_idle_time() {
        let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(1);
        sender.send(Bytes::from_static(b"first")).await.unwrap();
        let body = Body::new(Fed(receiver));
        let mut body = Outgoing::new(body, 1024, Duration::from_millis(50))
            .await
            .unwrap();
        let collected = body.next().collect().await;
        assert!(
            collected.is_err(),
            "the sender is still open but sends nothing"
        );
        assert_eq!(body.abandoned(), Some(Abandoned::Idle));
        drop(sender);
    }

    /// A body of what a channel receives, its length not declared.
    struct Fed(tokio::sync::mpsc::Receiver<Bytes>);

    impl HttpBody for Fed {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            self.get_mut()
                .0
                .poll_recv(cx)
                .map(|part| part.map(|part| Ok(Frame::data(part))))
        }
    }

    #[tokio::test]
    async fn a_declared_length_past_the_limit_is_refused_before_reading() {
        let refused = Outgoing::new(Body::from("0123456789"), 4, Duration::from_secs(5)).await;
        assert_eq!(refused.err(), Some(Abandoned::TooLarge));
    }
}
