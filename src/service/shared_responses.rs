//! The error answers many routes share, as the OpenAPI description shows them: written once
//! here, with an example each, and named in each route's `responses(...)`.
//!
//! Which route names which set is a fact about the route: behind the API key ([`KeyRefused`]),
//! reading the database ([`StoreFailed`], or [`StorePageFailed`] for the HTML routes), reading
//! a JSON body ([`BodyRefused`]). Route-specific answers stay in the route's own annotation.

use utoipa::IntoResponses;

use super::api::ErrorBody;

/// Every route behind the API key.
#[derive(IntoResponses)]
#[allow(dead_code)] // Only described: the key check answers through `api::error`.
pub(crate) enum KeyRefused {
    /// `unauthorized`: no `Authorization: Bearer` header with the service's key.
    #[response(
        status = 401,
        headers(("WWW-Authenticate" = String, description = "`Bearer`")),
        example = json!({"error": "unauthorized", "message": "send `Authorization: Bearer <PROVIDER_FORGE_SECRET_KEY>`"})
    )]
    Unauthorized(ErrorBody),
}

/// Every JSON route that reads the database.
#[derive(IntoResponses)]
#[allow(dead_code)] // Only described: failures answer through `ServiceError`.
pub(crate) enum StoreFailed {
    /// `database_error`: the database answered with an error; `cannot_decrypt`: a stored
    /// value does not open with the configured keys.
    #[response(
        status = 500,
        example = json!({"error": "database_error", "message": "corrupt row in the database: connections.sealed"})
    )]
    Failed(ErrorBody),
    /// `database_unavailable`: the database cannot be reached; `request_timeout`: the request
    /// took longer than two minutes. Try again.
    #[response(
        status = 503,
        example = json!({"error": "database_unavailable", "message": "database unavailable: pool timed out while waiting for an open connection"})
    )]
    Unavailable(ErrorBody),
}

/// Every HTML route (the callback, the connect page) that reads the database: the same
/// failures as [`StoreFailed`], as a page.
#[derive(IntoResponses)]
#[allow(dead_code)] // Only described: the pages answer through `connect_page::routes`.
pub(crate) enum StorePageFailed {
    /// The database answered with an error, or a stored value does not open (HTML page).
    #[response(status = 500, content_type = "text/html")]
    Failed(String),
    /// The database cannot be reached, or the request took longer than two minutes (HTML
    /// page).
    #[response(status = 503, content_type = "text/html")]
    Unavailable(String),
}

/// Every route that reads a JSON body.
#[derive(IntoResponses)]
#[allow(dead_code)] // Only described: axum's rejections become these in `json_errors`.
pub(crate) enum BodyRefused {
    /// `body_too_large`: the body is larger than 64 KiB.
    #[response(
        status = 413,
        example = json!({"error": "body_too_large", "message": "Failed to buffer the request body: length limit exceeded"})
    )]
    TooLarge(ErrorBody),
    /// `unsupported_media_type`: the body is not sent as `Content-Type: application/json`.
    #[response(
        status = 415,
        example = json!({"error": "unsupported_media_type", "message": "Expected request with `Content-Type: application/json`"})
    )]
    NotJson(ErrorBody),
}
