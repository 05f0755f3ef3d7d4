//! The codes of the service's error answers: one enum, the only list there is.
//!
//! Every JSON error the service answers carries one of these in `error`, and each code has
//! exactly one HTTP status, written here beside its name and meaning. The handlers, the
//! extractors' rejections, the proxy and the connect page's landing URL all name codes through
//! this type, and the OpenAPI description renders its `ErrorCode` schema from the same table
//! (an `enum` with every name and a description with every meaning), so a code cannot be
//! answered without being described: adding one means adding a line here, nothing else.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Declares [`ErrorCode`] from one table: variant, wire name, HTTP status, meaning.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = ($name:literal, $status:ident),)+) => {
        /// The machine-readable `error` of an error answer (its wire names are `snake_case`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ #[serde(rename = $name)] $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order the description lists them.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The wire name (`bad_request`, `reauthorization_required`, ...).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)+
                }
            }

            /// The HTTP status every answer with this code has.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)+
                }
            }

            /// What the code means, as its doc comment says.
            pub(crate) fn meaning(self) -> String {
                let lines: &[&str] = match self {
                    $(ErrorCode::$variant => &[$($doc),+],)+
                };
                lines.iter().map(|line| line.trim()).collect::<Vec<_>>().join(" ")
            }
        }
    };
}

error_codes! {
    /// The request is malformed: a body that is not the JSON the route takes (syntax, a
    /// missing or unknown field, a wrong type), a query or path value of the wrong type, or
    /// a request the provider's definition cannot serve (an unknown scope, a provider that
    /// connects another way, a `return_to` on no allowed origin).
    BadRequest = ("bad_request", BAD_REQUEST),
    /// A listing's `cursor` was altered, belongs to a listing with other filters, or was
    /// sealed with a key no longer configured.
    InvalidCursor = ("invalid_cursor", BAD_REQUEST),
    /// `connection_id` is empty, too long, or holds a control character (`field`:
    /// `connection_id`).
    InvalidConnectionId = ("invalid_connection_id", BAD_REQUEST),
    /// A credential the definition requires is missing (`field`: `credentials.NAME`).
    MissingCredential = ("missing_credential", BAD_REQUEST),
    /// A credential the definition does not declare (`field`: `credentials.NAME`).
    UnknownCredential = ("unknown_credential", BAD_REQUEST),
    /// A credential fails its pattern (`field`: `credentials.NAME`; the value is never
    /// quoted).
    InvalidCredential = ("invalid_credential", BAD_REQUEST),
    /// A connection parameter the definition requires is missing (`field`: `params.NAME`).
    MissingParam = ("missing_param", BAD_REQUEST),
    /// A connection parameter the definition does not declare (`field`: `params.NAME`).
    UnknownParam = ("unknown_param", BAD_REQUEST),
    /// A connection parameter fails its pattern or would move a URL off its host (`field`:
    /// `params.NAME`, or `params` for the values together).
    InvalidParam = ("invalid_param", BAD_REQUEST),
    /// The provider defines no such API environment; the message lists the ones it has
    /// (`field`: `environment`).
    UnknownEnvironment = ("unknown_environment", BAD_REQUEST),
    /// The provider enables no such data center; the message lists the ones it does
    /// (`field`: `dc`).
    UnknownDataCenter = ("unknown_data_center", BAD_REQUEST),
    /// The OAuth callback was refused (unknown or used session, wrong issuer, the provider's
    /// error); nothing was stored.
    CallbackRefused = ("callback_refused", BAD_REQUEST),
    /// Only in a landing URL's `error`: the user denied access at the provider.
    AccessDenied = ("access_denied", BAD_REQUEST),
    /// Only in a landing URL's `error`: the session expired before its callback came.
    SessionExpired = ("session_expired", BAD_REQUEST),
    /// A proxied path that could leave the API's host (`//`, `.` or `..`, `%2F`, `%5C`, `\`,
    /// a raw `@`, a URL); nothing was sent.
    PathRefused = ("path_refused", BAD_REQUEST),
    /// No `Authorization: Bearer` header with the service's key (or, for `/metrics`, the
    /// scrape-only key).
    Unauthorized = ("unauthorized", UNAUTHORIZED),
    /// No such route, provider or connection.
    NotFound = ("not_found", NOT_FOUND),
    /// The route does not answer this method (the proxy: `TRACE` and `CONNECT`).
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED),
    /// A proxied request body stopped arriving; the call was abandoned.
    BodyTimeout = ("body_timeout", REQUEST_TIMEOUT),
    /// The connection was reconnected or refreshed while being deleted; nothing was
    /// deleted, send the request again.
    ConnectionChanged = ("connection_changed", CONFLICT),
    /// The connection was made in another auth mode than its provider's definition now
    /// uses; connect again.
    ConnectionModeChanged = ("connection_mode_changed", CONFLICT),
    /// The access token expired and there is no refresh token; nothing was sent and the
    /// connection is kept.
    TokenExpired = ("token_expired", CONFLICT),
    /// The provider refused the refresh token (`status`: `reauthorization_required`); the
    /// user has to connect again.
    ReauthorizationRequired = ("reauthorization_required", CONFLICT),
    /// The stored connection values no longer fit the provider's definition; nothing was
    /// sent, connect again.
    ConnectionValuesRefused = ("connection_values_refused", CONFLICT),
    /// The request body is larger than the route takes (64 KiB, or the proxy's
    /// `--proxy-max-body`).
    BodyTooLarge = ("body_too_large", PAYLOAD_TOO_LARGE),
    /// A JSON route was sent a body without `Content-Type: application/json`.
    UnsupportedMediaType = ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE),
    /// The provider refused the credentials (its HTTP status in `provider_status`); nothing
    /// was stored.
    VerificationFailed = ("verification_failed", UNPROCESSABLE_ENTITY),
    /// The provider is rate limiting token requests.
    ProviderRateLimited = ("provider_rate_limited", TOO_MANY_REQUESTS),
    /// The service failed in a way it did not expect.
    Internal = ("internal", INTERNAL_SERVER_ERROR),
    /// A stored value could not be opened with the configured keys.
    CannotDecrypt = ("cannot_decrypt", INTERNAL_SERVER_ERROR),
    /// The database answered with an error.
    DatabaseError = ("database_error", INTERNAL_SERVER_ERROR),
    /// The provider failed or could not be reached (after bounded retries).
    ProviderError = ("provider_error", BAD_GATEWAY),
    /// A proxied call's provider could not be reached (after the retries).
    UpstreamUnreachable = ("upstream_unreachable", BAD_GATEWAY),
    /// The request took longer than the service allows (two minutes); try again.
    RequestTimeout = ("request_timeout", SERVICE_UNAVAILABLE),
    /// The database cannot be reached.
    DatabaseUnavailable = ("database_unavailable", SERVICE_UNAVAILABLE),
    /// A proxied call's provider did not answer within `--proxy-timeout`.
    UpstreamTimeout = ("upstream_timeout", GATEWAY_TIMEOUT),
}

impl ErrorCode {
    /// The code an answer of `status` has when nothing more precise is known (a refusal axum
    /// or a limit made): the first code of that status in the table (so `internal` and
    /// `request_timeout` come first among theirs), else `bad_request` for a client error and
    /// `internal` for a server error.
    pub(crate) fn for_status(status: StatusCode) -> ErrorCode {
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            // axum's word for a JSON body of the wrong shape; `verification_failed` is the
            // provider's.
            return ErrorCode::BadRequest;
        }
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|code| code.status() == status)
            .unwrap_or(if status.is_client_error() {
                ErrorCode::BadRequest
            } else {
                ErrorCode::Internal
            })
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        let meanings = ErrorCode::ALL
            .iter()
            .map(|code| {
                format!(
                    "- `{}` ({}): {}",
                    code.as_str(),
                    code.status().as_u16(),
                    code.meaning()
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.as_str())))
            .description(Some(format!(
                "The machine-readable error. Each code comes with one HTTP status:\n\n{meanings}"
            )))
            .build()
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip_through_serde() {
        let mut names = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(names.insert(code.as_str()), "{code} twice");
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::from(code.as_str()));
            assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), *code);
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn a_status_without_its_own_code_gets_the_nearest_one() {
        assert_eq!(
            ErrorCode::for_status(StatusCode::PAYLOAD_TOO_LARGE),
            ErrorCode::BodyTooLarge
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::UNPROCESSABLE_ENTITY),
            ErrorCode::BadRequest
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::IM_A_TEAPOT),
            ErrorCode::BadRequest
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::NOT_IMPLEMENTED),
            ErrorCode::Internal
        );
    }

    #[test]
    fn the_schema_lists_every_code_with_its_meaning() {
        let schema = serde_json::to_value(<ErrorCode as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        let names: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        let description = schema["description"].as_str().unwrap();
        assert!(
            description.contains(
                "- `token_expired` (409): The access token expired and there is no refresh token; nothing was sent and the connection is kept."
            ),
            "{description}"
        );
    }
}
