//! What the simulator's handlers read and answer: a request read whole ([`Received`]), an
//! answer with its meaning for the record ([`Answer`]), and the few reply shapes the endpoints
//! send (a redirect, a text page, a JSON body). The listener and every handler share them.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Response, StatusCode};
use serde_json::Value;

use super::state::find;
use crate::definition::types::TokenBody;

/// An HTTP answer.
pub(crate) type Reply = Response<Full<Bytes>>;

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

/// A request, read whole.
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
