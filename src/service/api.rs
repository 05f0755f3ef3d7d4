//! The HTTP API (axum): JSON routes behind a bearer key, the OAuth callback, `/healthz`,
//! `/readyz`, `/metrics` and `/openapi.json`, which is generated from the handlers and types
//! below (utoipa), so the description cannot drift from the code.
//!
//! JSON handlers return `Result<_, ServiceError>`; `error_code` is the one place that maps a
//! failure to its [`ErrorCode`] (and so its status). Every error answer is an [`ErrorBody`]:
//! what axum's extractors and the limits refuse before a handler runs is rewritten into one
//! on the way out (`json_errors`), and the description documents the codes from the same enum.
//! Errors several routes share are described once (`shared_responses`).
//!
//! Hardening lives here: a body size limit, a whole-request timeout, the bearer key compared
//! in constant time, and request logs that carry the method and path only: never a query
//! string (the callback's carries the code and state), a header or a body. The proxy route
//! ([`super::proxy`]) takes the key like every other, and its own body limit and timeouts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::RequestPartsExt;
use axum::extract::{
    DefaultBodyLimit, MatchedPath, Path, Query, RawPathParams, RawQuery, Request, State,
};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::config::ApiKey;
use super::connect_page::{
    self,
    return_to::{Outcome, landing_url},
};
use super::direct::ConnectionRequest;
use super::listing::PageRequest;
use super::outside_text::for_log;
use super::proxy;
use super::refresh::{Renew, TokenError};
use super::shared_responses::{BodyRefused, KeyRefused, StoreFailed, StorePageFailed};
use super::store::{ConnectionFilter, ConnectionRecord, ConnectionStatus, DatabaseError};
use super::{CallbackError, Service, ServiceError, SessionRequest, json_errors};
use crate::oauth::revoke::RevokedToken;
use crate::oauth::{CredentialSecret, OAuthError};

/// Largest accepted request body: a session request is a few hundred bytes.
pub(super) const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest a request may take, refresh waits included (a refresh is bounded by the engine's
/// own timeout and retries, well below this).
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// What the routes share.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) service: Arc<Service>,
    api_key: Arc<ApiKey>,
}

/// The service's routes, ready to serve (or to nest into a platform's own router).
pub fn router(service: Arc<Service>, api_key: ApiKey) -> Router {
    let state = AppState {
        service,
        api_key: Arc::new(api_key),
    };
    let protected = Router::new()
        .route("/connect/sessions", post(create_session))
        .route(
            "/connections",
            get(list_connections).post(create_connection),
        )
        .route(
            "/connections/{provider}/{connection_id}",
            get(get_connection).delete(delete_connection),
        )
        .route(
            "/connections/{provider}/{connection_id}/token",
            get(get_token),
        )
        .route("/openapi.json", get(openapi_json))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key));
    let scraped =
        Router::new()
            .route("/metrics", get(metrics))
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                require_metrics_key,
            ));
    // The proxy streams bodies past these limits and bounds its calls with its own
    // (`--proxy-timeout`, `--proxy-max-body`). It is outside the request span below: its own
    // `proxied` line names the call (method, provider, connection, upstream host, status,
    // attempts, duration), and a span per call is the dearest part of a hot proxied call's
    // logging.
    let proxied = Router::new()
        .route(proxy::PATH, proxy::route(Arc::clone(&state.service)))
        .route_layer(middleware::from_fn(readable_path))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key))
        .route_layer(middleware::from_fn_with_state(state.clone(), count_request));
    Router::new()
        .route("/oauth/callback", get(oauth_callback))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(connect_page::routes::router())
        .merge(protected)
        .merge(scraped)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        // Outside the limits, so that their plain answers are rewritten too.
        .layer(middleware::from_fn(json_errors::json_errors))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                // The path only: the callback's query string carries the code and state; a
                // connect page's path its token.
                tracing::info_span!("request", method = %request.method(), path = %loggable_path(request.uri().path()))
            }),
        )
        .merge(proxied)
        .with_state(state)
}

/// Refuses, in the JSON shape, a proxied call whose provider or connection id is not UTF-8
/// once decoded: the proxy's answers are the provider's, so its own extractor's plain-text
/// rejection would not be rewritten on the way out.
async fn readable_path(request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match parts.extract::<RawPathParams>().await {
        Ok(_) => next.run(Request::from_parts(parts, body)).await,
        Err(rejection) => json_errors::as_json(rejection.into_response()).await,
    }
}

/// A request path fit for the log: a connect page's token replaced.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/connect/") {
        Some("sessions" | "page.css") | None => path.into(),
        Some(_) => "/connect/[token]".into(),
    }
}

/// The OpenAPI description of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "provider-forge service",
        description = "Connect users to providers (OAuth consent, API keys, Basic, token requests, client credentials), hand out what calling their API takes (fresh tokens, ready headers and query parameters), and proxy API calls with a connection's credentials."
    ),
    paths(
        create_session,
        oauth_callback,
        connect_page::routes::show,
        connect_page::routes::submit,
        connect_page::routes::stylesheet,
        list_connections,
        create_connection,
        get_connection,
        get_token,
        delete_connection,
        proxy::forward,
        healthz,
        readyz,
        metrics,
        openapi_json
    ),
    components(schemas(ErrorCode)),
    servers((url = "http://127.0.0.1:3003", description = "`serve`'s default `--listen` address. A running service's own `GET /openapi.json` names its `--public-url` here instead.")),
    modifiers(&BearerKey, &OneOperationIdEach)
)]
struct ApiDoc;

/// A handler that answers several methods (the proxy) gives each its own operation id,
/// `forward_get`, `forward_post`, ...: OpenAPI wants them unique, and a generated client makes
/// one function of each.
struct OneOperationIdEach;

impl Modify for OneOperationIdEach {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let mut operations: Vec<_> = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("options", &mut item.options),
                ("head", &mut item.head),
                ("patch", &mut item.patch),
                ("trace", &mut item.trace),
            ]
            .into_iter()
            .filter_map(|(method, operation)| Some((method, operation.as_mut()?)))
            .collect();
            let ids: Vec<Option<String>> = operations
                .iter()
                .map(|(_, operation)| operation.operation_id.clone())
                .collect();
            for (method, operation) in &mut operations {
                let Some(id) = &operation.operation_id else {
                    continue;
                };
                if ids
                    .iter()
                    .filter(|other| other.as_ref() == Some(id))
                    .count()
                    > 1
                {
                    operation.operation_id = Some(format!("{id}_{method}"));
                }
            }
        }
    }
}

/// The description as a running service answers it: its servers are where it is served.
fn served_openapi(service: &Service) -> utoipa::openapi::OpenApi {
    let mut description = openapi();
    if let Some(pages) = &service.connect {
        description.servers = Some(vec![utoipa::openapi::Server::new(
            pages.public_url.as_str().trim_end_matches('/'),
        )]);
    }
    description
}

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

pub(super) use super::error_code::ErrorCode;

/// An error answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "not_found", "message": "no connection `acme-1` for provider `zoho-crm`"}))]
pub(super) struct ErrorBody {
    /// What went wrong, for machines: one of the `ErrorCode` enum, each with one HTTP status.
    pub error: ErrorCode,
    /// What happened and what to do.
    pub message: String,
    /// The connection's status, when the error is about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ConnectionStatus>,
    /// The request field refused (`credentials.apiKey`, `params.subdomain`, `environment`),
    /// when the error is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The provider's HTTP status, when it refused the credentials (`verification_failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_status: Option<u16>,
}

impl ErrorBody {
    pub(super) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            error: code,
            message: message.into(),
            status: None,
            field: None,
            provider_status: None,
        }
    }
}

impl IntoResponse for ErrorBody {
    fn into_response(self) -> Response {
        (self.error.status(), Json(self)).into_response()
    }
}

/// The JSON error answer of `code` (with its status).
pub(super) fn error(code: ErrorCode, message: impl Into<String>) -> Response {
    ErrorBody::new(code, message).into_response()
}

/// The error code of a failure: the one mapping, for JSON answers, pages and the landing
/// URL's `error`; its status is the code's.
pub(crate) fn error_code(error: &ServiceError) -> ErrorCode {
    match error {
        ServiceError::BadRequest(_) => ErrorCode::BadRequest,
        ServiceError::InvalidCursor(_) => ErrorCode::InvalidCursor,
        ServiceError::Field(field) => field.code(),
        ServiceError::NotFound(_) | ServiceError::Token(TokenError::NotFound { .. }) => {
            ErrorCode::NotFound
        }
        ServiceError::Changed(_) => ErrorCode::ConnectionChanged,
        ServiceError::VerificationFailed { .. } => ErrorCode::VerificationFailed,
        ServiceError::ModeChanged { .. } | ServiceError::Token(TokenError::NoToken { .. }) => {
            ErrorCode::ConnectionModeChanged
        }
        ServiceError::Token(TokenError::Expired { .. }) => ErrorCode::TokenExpired,
        ServiceError::Callback(_) => ErrorCode::CallbackRefused,
        ServiceError::Provider(error) | ServiceError::Token(TokenError::Refresh(error)) => {
            provider_failure(error)
        }
        ServiceError::Token(TokenError::ReauthorizationRequired { .. }) => {
            ErrorCode::ReauthorizationRequired
        }
        ServiceError::Store(error) | ServiceError::Token(TokenError::Store(error)) => {
            store_failure(error)
        }
        ServiceError::Crypto(_) | ServiceError::Token(TokenError::Crypto(_)) => {
            ErrorCode::CannotDecrypt
        }
    }
}

/// The status and error code of a failure (see [`error_code`]).
pub(crate) fn status_and_code(error: &ServiceError) -> (StatusCode, ErrorCode) {
    let code = error_code(error);
    (code.status(), code)
}

/// The `error` a landing URL carries for a failed callback: the user's refusal and an
/// expired session by name, anything else as its API error code.
fn landing_code(error: &ServiceError) -> ErrorCode {
    match error {
        ServiceError::Callback(CallbackError::Refused(OAuthError::UserDenied { .. })) => {
            ErrorCode::AccessDenied
        }
        ServiceError::Callback(CallbackError::Expired) => ErrorCode::SessionExpired,
        other => error_code(other),
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let mut body = ErrorBody::new(error_code(&self), self.to_string());
        match &self {
            ServiceError::Field(field) => body.field = Some(field.field()),
            ServiceError::VerificationFailed {
                provider_status, ..
            } => body.provider_status = Some(*provider_status),
            ServiceError::Token(TokenError::ReauthorizationRequired { .. }) => {
                body.status = Some(ConnectionStatus::ReauthorizationRequired);
            }
            _ => {}
        }
        if body.error.status().is_server_error() {
            tracing::error!(message = %for_log(&body.message), "request failed");
        }
        body.into_response()
    }
}

fn provider_failure(error: &OAuthError) -> ErrorCode {
    match error {
        OAuthError::RateLimited { .. } => ErrorCode::ProviderRateLimited,
        // The stored values no longer fit the provider's definition (it changed since the
        // connection was made): nothing was sent; the connection has to be made again.
        OAuthError::Connection(_) => ErrorCode::ConnectionValuesRefused,
        _ => ErrorCode::ProviderError,
    }
}

fn store_failure(error: &DatabaseError) -> ErrorCode {
    match error {
        DatabaseError::Unavailable(_) => ErrorCode::DatabaseUnavailable,
        _ => ErrorCode::DatabaseError,
    }
}

/// The bearer key a request presents.
fn presented_key(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The 401 of a request without the right key.
fn unauthorized(message: &str) -> Response {
    let mut response = error(ErrorCode::Unauthorized, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// Rejects requests without `Authorization: Bearer <PROVIDER_FORGE_SECRET_KEY>`.
async fn require_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match presented_key(&request) {
        Some(key) if state.api_key.matches(key) => next.run(request).await,
        _ => unauthorized("send `Authorization: Bearer <PROVIDER_FORGE_SECRET_KEY>`"),
    }
}

/// Rejects scrapes without the API key or the scrape-only `PROVIDER_FORGE_METRICS_KEY`.
async fn require_metrics_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match presented_key(&request) {
        Some(key) if state.api_key.matches(key) || state.service.opens_metrics(key) => {
            next.run(request).await
        }
        _ => unauthorized(
            "send `Authorization: Bearer <PROVIDER_FORGE_METRICS_KEY>` (or the service's key)",
        ),
    }
}

/// Counts every answered request by the route template it matched (never its path) and
/// times it to its response head.
async fn count_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let response = next.run(request).await;
    state.service.metrics().request(
        &method,
        route.as_deref(),
        response.status(),
        started.elapsed(),
    );
    response
}

async fn not_found() -> Response {
    error(ErrorCode::NotFound, "no such route")
}

/// A known route asked with a method it does not answer: the JSON shape every error has.
async fn method_not_allowed() -> Response {
    error(
        ErrorCode::MethodNotAllowed,
        "this route does not answer this method",
    )
}

/// `POST /connect/sessions` body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"provider": "zoho-crm", "connection_id": "acme-1", "scopes": ["ZohoCRM.modules.leads.READ"], "environment": "sandbox", "return_to": "https://app.example.com/integrations/done"}))]
#[serde(deny_unknown_fields)]
pub(super) struct CreateSession {
    /// Provider id (a definition in `--providers` with a client in `--clients`).
    pub provider: String,
    /// Your id for the connection; a later session with the same id replaces it.
    pub connection_id: String,
    /// The user's data center, when known; otherwise the provider's entry server decides.
    #[serde(default)]
    pub dc: Option<String>,
    /// Scopes to request; the provider's defaults when absent.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The provider's connection parameters (`connection.params`, e.g. Salesforce's
    /// `hostname`, a Shopify `subdomain`): checked against their patterns before any URL is
    /// built (400 naming the parameter and its pattern), stored with the connection, and
    /// filled into every later request of it.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Where the user's browser lands at the end, with `connection_id`, `provider` and
    /// `status=connected` (or `status=error&error=CODE`) added to its query. Must be on an
    /// origin given with `--return-origin` (scheme, host and port compared exactly), else 400.
    /// Without it the browser ends on a page that says the window can be closed.
    #[serde(default)]
    pub return_to: Option<String>,
    /// The API environment the connection is for (`production`, `sandbox`, ...): stored with
    /// it, and the one whose base URL its calls use. Default: the definition's first; an
    /// unknown one is a 400 `unknown_environment` listing the ones it defines.
    #[serde(default)]
    pub environment: Option<String>,
}

/// A started session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"connect_url": "https://forge.example.com/connect/Q2hvb3NlIGEgZGF0YSBjZW50ZXI", "expires_at": 1767225600}))]
pub(super) struct SessionCreated {
    /// The provider's authorization URL, when the provider is an OAuth one and every
    /// connection parameter it needs was given: the user's browser may open it directly.
    /// Absent when the connect page has something to ask first, and for providers whose users
    /// type credentials (`api_key`, `basic`, `token_request`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_url: Option<String>,
    /// The connect page (on `--public-url`): send the user's browser here. It asks what the
    /// session left open (data center, environment, connection parameters, credentials),
    /// then goes on to the provider or stores the credential connection. Single use; expires
    /// with the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_url: Option<String>,
    /// Unix seconds; the page and the callback are refused after this.
    pub expires_at: u64,
}

#[utoipa::path(
    post,
    path = "/connect/sessions",
    request_body = CreateSession,
    responses(
        (status = 201, description = "Session started", body = SessionCreated),
        (status = 400, description = "`bad_request`: an unknown scope, `return_to` not on an allowed origin, a body that is not this JSON; `unknown_data_center`, `unknown_environment`, `missing_param`, `unknown_param`, `invalid_param`, `invalid_connection_id`, with `field` naming it", body = ErrorBody,
            example = json!({"error": "unknown_environment", "message": "provider `zoho-crm` has no API environment `staging`; it defines: production, sandbox, developer", "field": "environment"})),
        KeyRefused,
        (status = 404, description = "`not_found`: no such provider", body = ErrorBody,
            example = json!({"error": "not_found", "message": "unknown provider `zoho-crmm`"})),
        BodyRefused,
        StoreFailed
    ),
    security(("bearer" = []))
)]
async fn create_session(
    State(state): State<AppState>,
    Json(body): Json<CreateSession>,
) -> Result<(StatusCode, Json<SessionCreated>), ServiceError> {
    let request = SessionRequest {
        provider: body.provider,
        connection_id: body.connection_id,
        data_center: body.dc,
        scopes: body.scopes,
        params: body.params,
        return_to: body.return_to,
        environment: body.environment,
    };
    let session = state.service.start_session(request).await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionCreated {
            authorization_url: session.authorization_url,
            connect_url: session.connect_url,
            expires_at: session.expires_at,
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/oauth/callback",
    description = "The redirect URI: the provider sends the user's browser here. Verifies state, error, data center and issuer, exchanges the code and stores the connection. A replayed, expired or forged callback stores nothing. A session with return_to sends the browser there (303) with connection_id, provider and status=connected, or status=error&error=CODE (access_denied, session_expired, callback_refused, provider_error, ...).",
    responses(
        (status = 303, description = "To the session's return_to, with the outcome in its query"),
        (status = 200, description = "Connected (HTML page)", content_type = "text/html"),
        (status = 400, description = "Refused: unknown, used or expired session, denied, wrong issuer (HTML page)", content_type = "text/html"),
        (status = 409, description = "The connection could not be stored as it stood (HTML page)", content_type = "text/html"),
        (status = 502, description = "The provider failed while the connection was being stored (HTML page)", content_type = "text/html"),
        StorePageFailed
    )
)]
async fn oauth_callback(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let service = &state.service;
    let (landing, result) = service
        .finish_callback(query.as_deref().unwrap_or_default())
        .await;
    if let Err(ServiceError::Callback(refusal)) = &result {
        tracing::warn!(reason = %for_log(&refusal.to_string()), "callback refused");
    }
    if let Some(landing) = landing {
        let outcome = match &result {
            Ok(_) => Outcome::Connected,
            Err(error) => Outcome::Error(landing_code(error).as_str()),
        };
        if let Some(url) = landing_url(
            &landing.return_to,
            &landing.provider,
            &landing.connection_id,
            outcome,
        ) {
            return connect_page::routes::see_other(&url);
        }
    }
    let page = |status, title: &str, message: &str| {
        connect_page::routes::outcome(service, status, title, message, None)
    };
    match result {
        Ok(record) => {
            let name = service
                .providers
                .get(&record.provider)
                .map_or(record.provider.as_str(), |p| p.display_name.as_str());
            page(
                StatusCode::OK,
                "Connected",
                &format!("The connection to {name} is set up. You can close this window."),
            )
        }
        Err(ServiceError::Callback(refusal)) => {
            let title = match &refusal {
                CallbackError::Refused(OAuthError::UserDenied { .. }) => "Access denied",
                _ => "Connection failed",
            };
            page(StatusCode::BAD_REQUEST, title, &refusal.to_string())
        }
        Err(other) => {
            let message = other.to_string();
            let status = other.into_response().status();
            page(status, "Connection failed", &message)
        }
    }
}

/// A connection's metadata (never a token).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"provider": "zoho-crm", "connection_id": "acme-1", "status": "active", "auth_mode": "oauth2_code", "data_center": "eu", "issuer": "https://accounts.zoho.eu", "environment": "production", "scopes": ["ZohoCRM.modules.leads.READ"], "granted_scope": "ZohoCRM.modules.leads.READ", "api_base_url": "https://www.zohoapis.eu", "token_type": "Bearer", "metadata": {"api_domain": "https://www.zohoapis.eu"}, "params": {}, "expires_at": 1767229200, "created_at": 1767225600, "updated_at": 1767225600}))]
pub(super) struct ConnectionView {
    /// Provider id.
    pub provider: String,
    /// Your id for the connection.
    pub connection_id: String,
    /// `active`, or `reauthorization_required` once the provider refused the refresh token.
    pub status: ConnectionStatus,
    /// How the connection authenticates: `oauth2_code`, `api_key`, `basic`,
    /// `client_credentials` or `token_request`.
    pub auth_mode: String,
    /// The user's data center.
    pub data_center: String,
    /// The server the connection's tokens come from: for OAuth, the accounts server the user
    /// was sent to (Zoho: `https://accounts.zoho.eu`); else the token endpoint's origin.
    /// Absent for `api_key` and `basic`.
    pub issuer: Option<String>,
    /// The API environment the connection was made for (`production`, `sandbox`, ...).
    pub environment: Option<String>,
    /// Scopes requested.
    pub scopes: Vec<String>,
    /// `scope` as granted by the provider.
    pub granted_scope: Option<String>,
    /// The API base URL of the data center in the connection's environment.
    pub api_base_url: Option<String>,
    /// `token_type` as returned.
    pub token_type: Option<String>,
    /// Token-response fields kept (Zoho: `api_domain`).
    #[schema(value_type = BTreeMap<String, Value>)]
    pub metadata: IndexMap<String, Value>,
    /// Connection parameters.
    pub params: BTreeMap<String, String>,
    /// Access-token expiry, unix seconds.
    pub expires_at: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl ConnectionView {
    fn new(service: &Service, record: ConnectionRecord) -> Self {
        Self {
            api_base_url: service.api_base_url(&record),
            environment: service.environment(&record),
            provider: record.provider,
            connection_id: record.connection_id,
            status: record.status,
            auth_mode: record.auth_mode.as_str().to_owned(),
            issuer: Some(record.issuer).filter(|issuer| !issuer.is_empty()),
            data_center: record.data_center,
            scopes: record.scopes,
            granted_scope: record.granted_scope,
            token_type: record.token_type,
            metadata: record.metadata,
            params: record.params,
            expires_at: record.expires_at,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// `GET /connections` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    /// Only this provider's connections.
    pub provider: Option<String>,
    /// Only connections in this status.
    pub status: Option<ConnectionStatus>,
    /// Connections per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page, sent with the same `provider` and `status`.
    pub cursor: Option<String>,
}

/// A page of connections.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"provider": "anthropic", "connection_id": "team-7", "status": "active", "auth_mode": "api_key", "data_center": "default", "issuer": null, "environment": "production", "scopes": [], "granted_scope": null, "api_base_url": "https://api.anthropic.com", "token_type": null, "metadata": {}, "params": {}, "expires_at": null, "created_at": 1767225600, "updated_at": 1767225600}], "next_cursor": null}))]
pub(super) struct ConnectionList {
    /// The connections, by provider then id.
    pub items: Vec<ConnectionView>,
    /// Send it as `cursor` (with the same filters) for the next page; `null` on the last page.
    /// Opaque: it is sealed, and any other value is refused.
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/connections",
    description = "Connections a page at a time, by provider then id: follow `next_cursor` until it is `null`. Each page costs the same however many connections are stored (keyset pagination on an index); a connection created or deleted meanwhile neither shifts nor repeats the others.",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of connections", body = ConnectionList),
        (status = 400, description = "`bad_request`: a limit out of 1 to 1000, an unknown status or query parameter; `invalid_cursor`: a cursor altered, from a listing with other filters, or sealed with a key no longer configured", body = ErrorBody,
            example = json!({"error": "bad_request", "message": "Failed to deserialize query string: limit: invalid digit found in string"})),
        KeyRefused,
        StoreFailed
    ),
    security(("bearer" = []))
)]
async fn list_connections(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ConnectionList>, ServiceError> {
    let request = PageRequest {
        filter: ConnectionFilter {
            provider: query.provider,
            status: query.status,
        },
        limit: query.limit,
        cursor: query.cursor,
    };
    let page = state.service.connections(&request).await?;
    Ok(Json(ConnectionList {
        items: page
            .items
            .into_iter()
            .map(|r| ConnectionView::new(&state.service, r))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// `POST /connections` body: a connection made from credentials (`api_key`, `basic`,
/// `token_request`, `client_credentials`).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"provider": "freshdesk", "connection_id": "acme-helpdesk", "credentials": {"username": "your-freshdesk-api-key", "password": "X"}, "params": {"subdomain": "acme"}}))]
#[serde(deny_unknown_fields)]
pub(super) struct CreateConnection {
    /// Provider id (a definition in `--providers` of one of those modes).
    pub provider: String,
    /// Your id for the connection; a later connection with the same id replaces it.
    pub connection_id: String,
    /// The credentials by the names the definition declares (`apiKey`; `username` and
    /// `password`). A `client_credentials` connection gives its own `client_id` and
    /// `client_secret`, or neither to use the platform's client from `--clients`. Checked
    /// against their declaration (400 naming the field), sealed at rest, never shown again.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub credentials: IndexMap<String, CredentialSecret>,
    /// The provider's connection parameters (`connection.params`, e.g. a helpdesk's
    /// `subdomain`), checked against their patterns.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The API environment (`production`, `sandbox`, ...); default: the definition's first.
    #[serde(default)]
    pub environment: Option<String>,
    /// The data center; default: the definition's default.
    #[serde(default)]
    pub dc: Option<String>,
}

#[utoipa::path(
    post,
    path = "/connections",
    request_body = CreateConnection,
    description = "Makes a connection from credentials: every field is checked against the definition, a token is obtained (`client_credentials`, `token_request`), the definition's verification is run (`api.verify`), and only then is the connection stored, sealed, with its `connection.created` event. Its token is renewed like an OAuth refresh, once across instances.",
    responses(
        (status = 201, description = "Verified and stored", body = ConnectionView),
        (status = 400, description = "A refused field: `error` is `missing_credential`, `unknown_credential`, `invalid_credential`, `missing_param`, `unknown_param`, `invalid_param`, `unknown_environment`, `unknown_data_center` or `invalid_connection_id`, and `field` names it (`credentials.apiKey`, `params.subdomain`, `environment`, `dc`); `bad_request` for a body that is not this JSON, or a provider that connects through OAuth consent", body = ErrorBody,
            example = json!({"error": "missing_credential", "message": "provider `anthropic` needs the credential `apiKey` (API Key)", "field": "credentials.apiKey"})),
        KeyRefused,
        (status = 404, description = "`not_found`: no such provider", body = ErrorBody,
            example = json!({"error": "not_found", "message": "unknown provider `anthropicc`"})),
        (status = 409, description = "`connection_values_refused`: the values make a request the provider's definition refuses; nothing was stored", body = ErrorBody,
            example = json!({"error": "connection_values_refused", "message": "the connection values are refused: `<subdomain>` makes a URL off the definition's host"})),
        BodyRefused,
        (status = 422, description = "`verification_failed`: the provider refused the credentials (its status in `provider_status`); nothing was stored", body = ErrorBody,
            example = json!({"error": "verification_failed", "message": "the provider refused the credentials; nothing was stored: HTTP 401", "provider_status": 401})),
        (status = 429, description = "`provider_rate_limited`: the provider is rate limiting token requests; nothing was stored", body = ErrorBody,
            example = json!({"error": "provider_rate_limited", "message": "the provider is rate limiting: Access Denied"})),
        (status = 502, description = "`provider_error`: the provider could not be reached or failed; nothing was stored", body = ErrorBody,
            example = json!({"error": "provider_error", "message": "the provider could not be reached: connection refused"})),
        StoreFailed
    ),
    security(("bearer" = []))
)]
async fn create_connection(
    State(state): State<AppState>,
    Json(body): Json<CreateConnection>,
) -> Result<(StatusCode, Json<ConnectionView>), ServiceError> {
    let request = ConnectionRequest {
        provider: body.provider,
        connection_id: body.connection_id,
        credentials: body
            .credentials
            .iter()
            .map(|(name, value)| (name.clone(), value.expose().to_owned()))
            .collect(),
        params: body.params,
        environment: body.environment,
        data_center: body.dc,
    };
    let written = state.service.create_connection(request).await?;
    // The stored row, as GET answers it (a replaced connection keeps its creation time); the
    // row as written if it cannot be read back.
    let record = state
        .service
        .connection(&written.provider, &written.connection_id)
        .await
        .unwrap_or(written);
    Ok((
        StatusCode::CREATED,
        Json(ConnectionView::new(&state.service, record)),
    ))
}

#[utoipa::path(
    get,
    path = "/connections/{provider}/{connection_id}",
    params(("provider" = String, Path), ("connection_id" = String, Path)),
    responses(
        (status = 200, description = "The connection", body = ConnectionView),
        (status = 400, description = "`bad_request`: a path segment that is not UTF-8 once decoded", body = ErrorBody,
            example = json!({"error": "bad_request", "message": "Invalid URL: Cannot parse `provider` with value `zoho-%FF` to a `String`"})),
        KeyRefused,
        (status = 404, description = "`not_found`: no such connection", body = ErrorBody,
            example = json!({"error": "not_found", "message": "no connection `acme-1` for provider `zoho-crm`"})),
        StoreFailed
    ),
    security(("bearer" = []))
)]
async fn get_connection(
    State(state): State<AppState>,
    Path((provider, connection_id)): Path<(String, String)>,
) -> Result<Json<ConnectionView>, ServiceError> {
    let record = state.service.connection(&provider, &connection_id).await?;
    Ok(Json(ConnectionView::new(&state.service, record)))
}

/// `GET .../token` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct TokenQuery {
    /// Refresh even when the stored token is still valid (concurrent callers still share
    /// one refresh).
    #[serde(default)]
    pub force_refresh: bool,
    /// The API environment whose base URL to hand out (`sandbox`); default: the
    /// connection's own.
    pub environment: Option<String>,
}

/// What a caller needs to call the connection's API itself.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "1000.8f2c…", "token_type": "Bearer", "expires_at": 1767229200, "api_base_url": "https://www.zohoapis.eu", "environment": "production", "auth_mode": "oauth2_code", "headers": {"Authorization": "Zoho-oauthtoken 1000.8f2c…"}, "query": {}, "metadata": {"api_domain": "https://www.zohoapis.eu"}}))]
pub(super) struct TokenView {
    /// The access token (token modes; absent for `api_key` and `basic`, whose credentials
    /// travel in `headers` and `query`).
    pub access_token: Option<String>,
    /// `token_type` as returned (usually `Bearer`).
    pub token_type: Option<String>,
    /// Unix seconds.
    pub expires_at: Option<u64>,
    /// The API base URL of the connection's data center in `environment`; a call's path
    /// goes after it.
    pub api_base_url: Option<String>,
    /// The API environment of `api_base_url`.
    pub environment: Option<String>,
    /// How the connection authenticates (`oauth2_code`, `api_key`, `basic`,
    /// `client_credentials`, `token_request`).
    pub auth_mode: String,
    /// Headers to send on every API call, ready to use, exactly as the definition places
    /// the credentials (Zoho: `Authorization: Zoho-oauthtoken …`; an API key's `x-api-key`).
    #[schema(value_type = BTreeMap<String, String>)]
    pub headers: IndexMap<String, String>,
    /// Query parameters to add to every API call (an API key sent as `?key=`).
    #[schema(value_type = BTreeMap<String, String>)]
    pub query: IndexMap<String, String>,
    /// Token-response fields kept (Zoho: `api_domain`).
    #[schema(value_type = BTreeMap<String, Value>)]
    pub metadata: IndexMap<String, Value>,
}

#[utoipa::path(
    get,
    path = "/connections/{provider}/{connection_id}/token",
    params(("provider" = String, Path), ("connection_id" = String, Path), TokenQuery),
    responses(
        (status = 200, description = "A token valid beyond the refresh margin, with the ready headers and query parameters that carry it", body = TokenView),
        (status = 400, description = "`unknown_environment`: the provider defines no such API environment (the message lists the ones it has); `bad_request`: a query value of the wrong type (`force_refresh=maybe`)", body = ErrorBody,
            example = json!({"error": "unknown_environment", "message": "provider `zoho-crm` has no API environment `staging`; it defines: production, sandbox, developer", "field": "environment"})),
        KeyRefused,
        (status = 404, description = "`not_found`: no such connection", body = ErrorBody,
            example = json!({"error": "not_found", "message": "no connection `acme-1` for provider `zoho-crm`"})),
        (status = 409, description = "`reauthorization_required`: the provider refused the refresh token; `token_expired`: the access token expired and there is no refresh token (nothing was sent, the connection is kept); `connection_values_refused`; `connection_mode_changed`", body = ErrorBody,
            example = json!({"error": "reauthorization_required", "message": "connection `acme-1` of `zoho-crm` needs reauthorization: the provider refused its refresh token; start a new connect session", "status": "reauthorization_required"})),
        (status = 429, description = "`provider_rate_limited`: the provider is rate limiting refreshes", body = ErrorBody,
            example = json!({"error": "provider_rate_limited", "message": "refresh failed: the provider is rate limiting: Access Denied"})),
        (status = 502, description = "`provider_error`: the provider failed (after bounded retries)", body = ErrorBody,
            example = json!({"error": "provider_error", "message": "refresh failed: the token endpoint answered HTTP 500"})),
        StoreFailed
    ),
    security(("bearer" = []))
)]
async fn get_token(
    State(state): State<AppState>,
    Path((provider, connection_id)): Path<(String, String)>,
    Query(query): Query<TokenQuery>,
) -> Result<impl IntoResponse, ServiceError> {
    let authorized = state
        .service
        .authorize(
            &provider,
            &connection_id,
            query.environment.as_deref(),
            Renew::forced(query.force_refresh),
        )
        .await?;
    let exposed = |map: &IndexMap<String, crate::resolve::connection::Filled>| {
        map.iter()
            .map(|(name, value)| (name.clone(), value.expose().to_owned()))
            .collect()
    };
    let authorization = authorized.authorization.as_ref();
    let tokens = authorized.tokens;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(TokenView {
            access_token: tokens
                .as_ref()
                .map(|tokens| tokens.access_token.expose().to_owned()),
            token_type: tokens.as_ref().and_then(|tokens| tokens.token_type.clone()),
            expires_at: tokens.as_ref().and_then(|tokens| tokens.expires_at),
            api_base_url: authorization.map(|a| a.base_url.clone()),
            environment: authorization.map(|a| a.environment.clone()),
            auth_mode: authorized.record.auth_mode.as_str().to_owned(),
            headers: authorization
                .map(|a| exposed(&a.headers))
                .unwrap_or_default(),
            query: authorization.map(|a| exposed(&a.query)).unwrap_or_default(),
            metadata: tokens.map(|tokens| tokens.metadata).unwrap_or_default(),
        }),
    ))
}

/// The outcome of a deletion.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"revoked": "refresh_token"}))]
pub(super) struct Deleted {
    /// Which token was revoked at the provider: `refresh_token`, `access_token`, or none
    /// (the provider cannot revoke, or already considered it invalid).
    pub revoked: Option<String>,
}

#[utoipa::path(
    delete,
    path = "/connections/{provider}/{connection_id}",
    params(("provider" = String, Path), ("connection_id" = String, Path)),
    responses(
        (status = 200, description = "Revoked (when the provider can) and deleted", body = Deleted),
        (status = 400, description = "`bad_request`: a path segment that is not UTF-8 once decoded", body = ErrorBody,
            example = json!({"error": "bad_request", "message": "Invalid URL: Cannot parse `provider` with value `zoho-%FF` to a `String`"})),
        KeyRefused,
        (status = 404, description = "`not_found`: no such connection", body = ErrorBody,
            example = json!({"error": "not_found", "message": "no connection `acme-1` for provider `zoho-crm`"})),
        (status = 409, description = "`connection_changed`: reconnected or refreshed while being deleted; nothing deleted, DELETE again. `connection_values_refused`: the stored values no longer fit the definition", body = ErrorBody,
            example = json!({"error": "connection_changed", "message": "connection `acme-1` of `zoho-crm` changed while it was being deleted (reconnected or refreshed); nothing was deleted: DELETE again to revoke and delete the current one"})),
        (status = 429, description = "`provider_rate_limited`: the provider is rate limiting; nothing deleted", body = ErrorBody,
            example = json!({"error": "provider_rate_limited", "message": "the provider is rate limiting: Access Denied"})),
        (status = 502, description = "`provider_error`: the provider could not be reached; nothing deleted", body = ErrorBody,
            example = json!({"error": "provider_error", "message": "the provider could not be reached: connection refused"})),
        StoreFailed
    ),
    security(("bearer" = []))
)]
async fn delete_connection(
    State(state): State<AppState>,
    Path((provider, connection_id)): Path<(String, String)>,
) -> Result<Json<Deleted>, ServiceError> {
    let revoked = state.service.delete(&provider, &connection_id).await?;
    Ok(Json(Deleted {
        revoked: revoked.map(|kind| {
            match kind {
                RevokedToken::Refresh => "refresh_token",
                RevokedToken::Access => "access_token",
            }
            .to_owned()
        }),
    }))
}

/// Health.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub(super) struct Health {
    /// Whether the service can serve.
    pub status: HealthStatus,
    /// Why not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a health check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum HealthStatus {
    /// Serving: the database answers (and, for readiness, every migration is applied).
    Ok,
    /// The database cannot be reached or fails.
    DatabaseUnavailable,
    /// Readiness only: a migration this version ships is not applied.
    MigrationsMissing,
}

fn health(check: Result<(), DatabaseError>) -> Response {
    match check {
        Ok(()) => Json(Health {
            status: HealthStatus::Ok,
            message: None,
        })
        .into_response(),
        Err(error) => {
            let status = match error {
                DatabaseError::Migration(_) => HealthStatus::MigrationsMissing,
                _ => HealthStatus::DatabaseUnavailable,
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status,
                    message: Some(error.to_string()),
                }),
            )
                .into_response()
        }
    }
}

#[utoipa::path(
    get,
    path = "/healthz",
    description = "Liveness: a real query on the connections table, through the pool the routes use.",
    responses(
        (status = 200, description = "Serving, database answering", body = Health),
        (status = 503, description = "Database unreachable or failing", body = Health,
            example = json!({"status": "database_unavailable", "message": "database unavailable: pool timed out while waiting for an open connection"}))
    )
)]
async fn healthz(State(state): State<AppState>) -> Response {
    health(state.service.store().ping().await)
}

#[utoipa::path(
    get,
    path = "/readyz",
    description = "Readiness: the database answers and every migration this version ships is applied.",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable, or migrations missing", body = Health,
            example = json!({"status": "migrations_missing", "message": "database migration failed: not applied: 6 connect pages"}))
    )
)]
async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.service.store();
    let check = match store.ping().await {
        Ok(()) => store.ready().await,
        Err(error) => Err(error),
    };
    health(check)
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    responses(
        (status = 200, description = "This description", content_type = "application/json"),
        KeyRefused
    ),
    security(("bearer" = []))
)]
async fn openapi_json(State(state): State<AppState>) -> Response {
    Json(served_openapi(&state.service)).into_response()
}

#[utoipa::path(
    get,
    path = "/metrics",
    description = "Prometheus metrics (text format 0.0.4): `provider_forge_http_requests_total` by method, route template and status class; `provider_forge_http_request_duration_seconds` by method and route template; `provider_forge_token_refreshes_total` by provider and outcome (`ok`, `refused`, `failed`); `provider_forge_webhook_deliveries_total` by outcome. Labels never hold a connection id, a query string, a credential or a token. Opens with the API key or the scrape-only `PROVIDER_FORGE_METRICS_KEY`.",
    responses(
        (status = 200, description = "The metrics", content_type = "text/plain"),
        KeyRefused
    ),
    security(("bearer" = []))
)]
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)],
        state.service.metrics().encode(),
    )
        .into_response()
}
