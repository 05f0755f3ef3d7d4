//! Error answers made outside the handlers, in the JSON shape every other error has.
//!
//! axum's extractors (a body too large, not JSON, or of the wrong shape; a query or path
//! value of the wrong type), the body limit and the request timeout answer in plain text or
//! with no body. One middleware, around every route whose answers are the service's own (all
//! but the proxy's, which passes the provider's answers back as they came), rewrites each
//! error answer that is neither JSON nor an HTML page into an [`ErrorBody`]: the code is the
//! one [`ErrorCode::for_status`] gives, its status the code's, the message axum's text (or
//! the code's meaning when there is none). So the handlers take axum's extractors as they are,
//! and one added later answers in the same shape without a line of its own.

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api::ErrorBody;
use super::error_code::ErrorCode;

/// The most of a plain error answer read into the message (axum's texts are one line).
const MAX_TEXT_BYTES: usize = 4096;

/// The middleware: every plain error answer of the routes it wraps, as JSON.
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    as_json(next.run(request).await).await
}

/// `response` itself when it is not an error or already JSON or a page; else the same error
/// in the JSON shape, its other headers (`Allow`, `WWW-Authenticate`, ...) kept.
pub(crate) async fn as_json(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || speaks_for_itself(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_TEXT_BYTES)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let code = ErrorCode::for_status(status);
    let message = if text.is_empty() {
        code.meaning()
    } else {
        text
    };
    let mut answer = ErrorBody::new(code, message).into_response();
    carry_headers(parts.headers, answer.headers_mut());
    answer
}

/// Whether an error answer is already in a shape a client reads: JSON, or an HTML page (the
/// callback's and the connect page's).
fn speaks_for_itself(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            let value = value.to_ascii_lowercase();
            value.starts_with("application/json") || value.starts_with("text/html")
        })
}

fn carry_headers(from: HeaderMap, to: &mut HeaderMap) {
    let mut name = None;
    for (next, value) in from {
        if next.is_some() {
            name = next;
        }
        match &name {
            Some(name) if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH => {
                to.append(name.clone(), value);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;

    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_plain_text_error_becomes_json_with_its_status_code() {
        let plain = Response::builder()
            .status(StatusCode::PAYLOAD_TOO_LARGE)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::RETRY_AFTER, "1")
            .body(Body::from("length limit exceeded"))
            .unwrap();
        let answer = as_json(plain).await;
        assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(answer.headers()[header::RETRY_AFTER], "1");
        assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            body_json(answer).await,
            serde_json::json!({"error": "body_too_large", "message": "length limit exceeded"})
        );
    }

    #[tokio::test]
    async fn an_empty_timeout_answer_says_what_its_code_means() {
        let empty = Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body(Body::empty())
            .unwrap();
        let body = body_json(as_json(empty).await).await;
        assert_eq!(body["error"], "request_timeout");
        assert_eq!(
            body["message"],
            "The request took longer than the service allows (two minutes); try again."
        );
    }

    #[tokio::test]
    async fn pages_json_and_successes_pass_unchanged() {
        for (status, content_type) in [
            (StatusCode::NOT_FOUND, Some("text/html; charset=utf-8")),
            (StatusCode::CONFLICT, Some("application/json")),
            (StatusCode::OK, Some("text/plain")),
            (StatusCode::SEE_OTHER, None),
        ] {
            let mut builder = Response::builder().status(status);
            if let Some(content_type) = content_type {
                builder = builder.header(header::CONTENT_TYPE, content_type);
            }
            let answer = as_json(builder.body(Body::from("as it was")).unwrap()).await;
            assert_eq!(answer.status(), status);
            let bytes = axum::body::to_bytes(answer.into_body(), 1024)
                .await
                .unwrap();
            assert_eq!(&bytes[..], b"as it was");
        }
    }
}
