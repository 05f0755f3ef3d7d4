//! What the simulator's handlers read and answer: a request ([`Received`]), an answer with its
//! meaning for the record ([`Answer`]), and the few reply shapes the endpoints send (a
//! redirect, a text page, a JSON body, a body streamed from a channel). The listener and every
//! handler share them.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::{Method, Response, StatusCode};
use serde_json::Value;
use tokio::sync::mpsc;

use super::state::find;
use crate::definition::types::TokenBody;

/// An HTTP answer with its body whole.
pub(crate) type Reply = Response<Full<Bytes>>;

/// An HTTP answer as the listener sends it: any body, whole or streamed.
pub(crate) type Streamed = Response<UnsyncBoxBody<Bytes, Infallible>>;

/// A whole answer as the listener sends it.
pub(crate) fn streamed(reply: Reply) -> Streamed {
    reply.map(BodyExt::boxed_unsync)
}

/// A body of the chunks a channel receives, ending when its sender is dropped: the sender
/// waits while the client has not read what was sent.
pub(crate) struct Channel {
    pub(crate) receiver: mpsc::Receiver<Bytes>,
    /// The whole length, when known (sent as `Content-Length`).
    pub(crate) length: Option<u64>,
}

impl Body for Channel {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .receiver
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }

    fn size_hint(&self) -> SizeHint {
        self.length.map(SizeHint::with_exact).unwrap_or_default()
    }
}

/// An answer and what it means, for the record and the log (never a secret).
pub(crate) struct Answer {
    pub(crate) reply: Reply,
    pub(crate) outcome: String,
}

impl Answer {
    pub(crate) fn new(reply: Reply, outcome: impl Into<String>) -> Answer {
        Answer {
            reply,
            outcome: outcome.into(),
        }
    }
}

/// A request: its head, and the parameters of its body when it was read whole.
pub(crate) struct Received {
    pub(crate) host: String,
    pub(crate) path: String,
    pub(crate) method: Method,
    pub(crate) query: Vec<(String, String)>,
    /// Body parameters, form-encoded or JSON (scalars as text).
    pub(crate) form: Vec<(String, String)>,
    /// How the body was encoded, by its content type (`None` when empty).
    pub(crate) body: Option<TokenBody>,
    /// A JSON body that is not an object of scalars.
    pub(crate) unreadable_json: bool,
    pub(crate) basic_auth: Option<(String, String)>,
    /// Every header, its name in lower case, in order.
    pub(crate) headers: Vec<(String, String)>,
}

impl Received {
    /// The first value of header `name` (lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, &name.to_ascii_lowercase())
    }

    /// A parameter from the query or else the form (token endpoints accept both, as Zoho).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        find(&self.query, name).or_else(|| find(&self.form, name))
    }
}

/// `base` with `pairs` appended to its query.
pub(crate) fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(base) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        }
        Err(_) => base.to_owned(),
    }
}

pub(crate) fn redirect(location: &str) -> Reply {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(hyper::header::LOCATION, location)
        .body(Full::new(Bytes::new()))
        .expect("a redirect is a valid response")
}

pub(crate) fn text(status: StatusCode, body: &str) -> Reply {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("a text page is a valid response")
}

pub(crate) fn json(status: StatusCode, body: &Value) -> Reply {
    raw_json(status, body.to_string())
}

/// A JSON content type over any body (the `malformed-json` fault sends a broken one).
pub(crate) fn raw_json(status: StatusCode, body: String) -> Reply {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::CACHE_CONTROL, "no-store")
        .body(Full::new(Bytes::from(body)))
        .expect("a JSON answer is a valid response")
}
