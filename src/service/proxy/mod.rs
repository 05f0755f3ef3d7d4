//! The API proxy: `ANY /proxy/{provider}/{connection_id}/{*path}` makes the call at the
//! connection's API base URL with the connection's credentials applied exactly as the
//! definition places them, and passes the provider's answer back as it comes.
//!
//! The contract, each part in a module of its own:
//! - `upstream`: the URL is the base URL, the caller's path and the caller's query, built so
//!   that nothing the caller sends changes the host; a path that tries is refused with 400 and
//!   never sent.
//! - `headers`: the caller's `Authorization`, `Cookie`, `Host`, `Proxy-*` and hop-by-hop
//!   headers never go up; the others do, then the credentials. The answer's hop-by-hop headers
//!   stay behind.
//! - `stream`: bodies stream both ways, within a size limit and an idle timeout; only a small
//!   body of declared length is held, so that it can be sent again.
//! - `retry`: 429, 503 and network errors are retried for idempotent calls (or when the
//!   caller opts in), bounded in count and time, after the wait the answer asks for.
//! - A 401 on a token connection renews the token once, through the same single flight as the
//!   token route, conditioned on the refused token still being the stored one, so however many
//!   calls (on however many instances) see it refused, the provider sees one refresh. The call
//!   is made once more; a second 401 is passed back. A refused refresh marks the connection
//!   `reauthorization_required` and answers 409.
//! - `cache`: a hot connection's credentials come from memory, kept true by the store's
//!   change feed.
//! - `client`: one pooled HTTP client for every call, with the service's trust and fixed
//!   addresses.
//!
//! `Provider-Forge-Environment: NAME` picks the API environment for one call (the connection's
//! own otherwise); `Provider-Forge-Retry: true` lets a non-idempotent call be retried. Each call
//! is logged once with its method, provider, connection, upstream host, status, attempts and
//! duration; never a header value, a query string or a body.

mod cache;
mod client;
mod headers;
mod retry;
mod stream;
mod upstream;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{HeaderName, HeaderValue};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any};
use tokio::time::Instant;

use super::api::{ErrorBody, ErrorCode, error as error_response};
use super::authorization::Authorization;
use super::outside_text::for_log;
use super::refresh::Renew;
use super::shared_responses::{KeyRefused, StoreFailed};
use super::{Service, ServiceError};
use crate::oauth::token::unix_now;
use cache::HotConnections;
use client::{SendFailure, UpstreamBody};
use stream::{Abandoned, Outgoing};
use upstream::{Base, PathRefused};

pub(crate) use client::ProxyClient;

/// Default `--proxy-retries`.
pub const DEFAULT_RETRIES: u32 = 3;
/// Default `--proxy-retry-seconds`.
pub const DEFAULT_RETRY_SECS: u64 = 30;
/// Default `--proxy-timeout`, seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// Default `--proxy-max-body`, MiB.
pub const DEFAULT_MAX_BODY_MIB: u64 = 100;

/// The header that picks the API environment of one call.
pub const ENVIRONMENT_HEADER: &str = "provider-forge-environment";
/// The header that lets a non-idempotent call be retried (`true`).
pub const RETRY_HEADER: &str = "provider-forge-retry";

/// How the proxy retries, waits and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySettings {
    /// Most retries of one call after 429, 503 or a network error.
    pub retries: u32,
    /// Longest time from the first attempt to the last retry.
    pub retry_budget: Duration,
    /// Longest wait for the provider's answer to begin, and for the next bytes of a body
    /// (either way) once it flows.
    pub timeout: Duration,
    /// Largest request body passed on, bytes.
    pub max_body_bytes: u64,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            retries: DEFAULT_RETRIES,
            retry_budget: Duration::from_secs(DEFAULT_RETRY_SECS),
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            max_body_bytes: DEFAULT_MAX_BODY_MIB * 1024 * 1024,
        }
    }
}

/// The proxy's state in the service: settings, the client and hot connections.
pub(crate) struct Proxy {
    settings: ProxySettings,
    client: ProxyClient,
    cache: Arc<HotConnections<Prepared>>,
    /// Set once the cache hears the store's changes.
    watching: OnceLock<()>,
}

impl Proxy {
    pub(crate) fn new(settings: ProxySettings, client: ProxyClient) -> Self {
        Self {
            settings,
            client,
            cache: Arc::new(HotConnections::new()),
            watching: OnceLock::new(),
        }
    }

    /// The client its calls go through.
    pub(crate) fn client(&self) -> &ProxyClient {
        &self.client
    }
}

/// A connection's credentials ready for calls: what the cache keeps.
struct Prepared {
    base: Base,
    headers: Vec<(HeaderName, HeaderValue)>,
    query: Vec<(String, String)>,
    generation: i64,
    renewable: bool,
    expires_at: Option<u64>,
}

impl Prepared {
    fn new(authorization: Authorization) -> Result<Prepared, ProxyError> {
        let unusable = |what: String| {
            ProxyError::from(ServiceError::BadRequest(format!(
                "the connection's credentials cannot be sent: {what}"
            )))
        };
        let base = Base::parse(&authorization.base_url).map_err(unusable)?;
        let mut headers = Vec::with_capacity(authorization.headers.len());
        for (name, value) in &authorization.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| unusable(format!("`{name}` is not a header name")))?;
            let mut value = HeaderValue::from_str(value.expose())
                .map_err(|_| unusable(format!("the value of `{name}` is not a header value")))?;
            value.set_sensitive(true);
            headers.push((name, value));
        }
        let query = authorization
            .query
            .iter()
            .map(|(name, value)| (name.clone(), value.expose().to_owned()))
            .collect();
        Ok(Prepared {
            base,
            headers,
            query,
            generation: authorization.generation,
            renewable: authorization.auth_mode.has_token(),
            expires_at: authorization.expires_at,
        })
    }

    /// Whether a renewal brought other credentials.
    fn same_credentials(&self, other: &Prepared) -> bool {
        self.headers == other.headers && self.query == other.query
    }

    /// Whether the token is still good for `margin_secs`.
    fn fresh(&self, margin_secs: u64) -> bool {
        self.expires_at
            .is_none_or(|at| at > unix_now().saturating_add(margin_secs))
    }
}

/// A proxied call that ended before an answer could be passed back.
#[derive(Debug, thiserror::Error)]
enum ProxyError {
    #[error(transparent)]
    Path(#[from] PathRefused),
    #[error("{0} is not proxied: it would echo the connection's credentials or open a tunnel")]
    Method(Method),
    #[error("the request body is larger than the limit of {0} bytes; nothing more was sent")]
    TooLarge(u64),
    #[error("the request body stopped arriving for {0} s; the call was abandoned")]
    BodyStalled(u64),
    #[error("the provider did not answer within {0} s")]
    Timeout(u64),
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Service(Box<ServiceError>),
}

impl From<ServiceError> for ProxyError {
    fn from(error: ServiceError) -> Self {
        ProxyError::Service(Box::new(error))
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let code = match &self {
            ProxyError::Path(_) => ErrorCode::PathRefused,
            ProxyError::Method(_) => ErrorCode::MethodNotAllowed,
            ProxyError::TooLarge(_) => ErrorCode::BodyTooLarge,
            ProxyError::BodyStalled(_) => ErrorCode::BodyTimeout,
            ProxyError::Timeout(_) => ErrorCode::UpstreamTimeout,
            ProxyError::Unreachable(_) => ErrorCode::UpstreamUnreachable,
            ProxyError::Service(_) => ErrorCode::Internal,
        };
        match self {
            ProxyError::Service(error) => error.into_response(),
            other => error_response(code, other.to_string()),
        }
    }
}

/// The proxy route, for any method.
pub(crate) fn route<S: Clone + Send + Sync + 'static>(service: Arc<Service>) -> MethodRouter<S> {
    any(forward).with_state(service)
}

/// What the route's path is, for the OpenAPI description.
pub(crate) const PATH: &str = "/proxy/{provider}/{connection_id}/{*path}";

#[utoipa::path(
    method(get, post, put, patch, delete, head, options),
    path = "/proxy/{provider}/{connection_id}/{path}",
    description = "Calls the provider's API with the connection's credentials, applied as the definition places them, at the connection's API base URL plus `path` and the query string. The body streams both ways; the provider's status, headers (minus hop-by-hop) and body are passed back. The caller's Authorization, Cookie, Host, Proxy-* and hop-by-hop headers are not forwarded. A 401 on a token connection renews the token once and retries; 429 and 503 are retried for idempotent methods (or with `Provider-Forge-Retry: true`) after Retry-After, within the --proxy-retries and --proxy-retry-seconds bounds, when the body is small enough to send again.",
    params(
        ("provider" = String, Path),
        ("connection_id" = String, Path),
        ("path" = String, Path, description = "The path under the API base URL; one that could leave its host (`//`, `.`/`..`, `%2F`, `%5C`, `\\`, raw `@`, a URL) is refused with 400"),
        ("Provider-Forge-Environment" = Option<String>, Header, description = "The API environment for this call (e.g. `sandbox`); the connection's own by default"),
        ("Provider-Forge-Retry" = Option<bool>, Header, description = "`true`: retry a non-idempotent call after 429, 503 or a network error too")
    ),
    responses(
        (status = 200, description = "The provider's answer, whatever its status, passed back as it came"),
        (status = 400, description = "`path_refused`: the path could leave the API's host (nothing sent); `unknown_environment`: no such API environment in `Provider-Forge-Environment`", body = ErrorBody,
            example = json!({"error": "path_refused", "message": "the path is refused: it has a `.` or `..` segment, which would climb out of the API base URL"})),
        KeyRefused,
        (status = 404, description = "`not_found`: no such provider or connection", body = ErrorBody,
            example = json!({"error": "not_found", "message": "no connection `acme-1` for provider `zoho-crm`"})),
        (status = 405, description = "`method_not_allowed`: TRACE and CONNECT are not proxied", body = ErrorBody,
            example = json!({"error": "method_not_allowed", "message": "TRACE is not proxied: it would echo the connection's credentials or open a tunnel"})),
        (status = 408, description = "`body_timeout`: the request body stopped arriving", body = ErrorBody,
            example = json!({"error": "body_timeout", "message": "the request body stopped arriving for 60 s; the call was abandoned"})),
        (status = 409, description = "`reauthorization_required`: the provider refused the refresh token; `token_expired`; `connection_values_refused`; `connection_mode_changed`", body = ErrorBody,
            example = json!({"error": "reauthorization_required", "message": "connection `acme-1` of `zoho-crm` needs reauthorization: the provider refused its refresh token; start a new connect session"})),
        (status = 413, description = "`body_too_large`: past --proxy-max-body", body = ErrorBody,
            example = json!({"error": "body_too_large", "message": "the request body is larger than the limit of 104857600 bytes; nothing more was sent"})),
        (status = 429, description = "`provider_rate_limited`: a renewal the provider rate limited (the provider's own 429 is passed back as it came)", body = ErrorBody,
            example = json!({"error": "provider_rate_limited", "message": "refresh failed: the provider is rate limiting: Access Denied"})),
        (status = 502, description = "`upstream_unreachable` (after the retries), or `provider_error`: a renewal the provider failed", body = ErrorBody,
            example = json!({"error": "upstream_unreachable", "message": "the provider could not be reached: connection refused"})),
        StoreFailed,
        (status = 504, description = "`upstream_timeout`: no answer within --proxy-timeout", body = ErrorBody,
            example = json!({"error": "upstream_timeout", "message": "the provider did not answer within 60 s"}))
    ),
    security(("bearer" = []))
)]
pub(crate) async fn forward(
    State(service): State<Arc<Service>>,
    Path((provider, connection_id, _)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let mut call = Call {
        service: &service,
        provider: &provider,
        connection_id: &connection_id,
        attempts: 0,
        host: None,
    };
    let outcome = call.run(request).await;
    let response = outcome.unwrap_or_else(IntoResponse::into_response);
    tracing::info!(
        method = %method,
        provider = %for_log(&provider),
        connection_id = %for_log(&connection_id),
        upstream = call.host.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        attempts = call.attempts,
        duration_ms = started.elapsed().as_millis() as u64,
        "proxied"
    );
    response
}

/// One proxied call.
struct Call<'a> {
    service: &'a Service,
    provider: &'a str,
    connection_id: &'a str,
    /// Requests sent upstream so far.
    attempts: u32,
    /// The upstream host, once known (for the log).
    host: Option<Arc<str>>,
}

impl Call<'_> {
    async fn run(&mut self, request: Request) -> Result<Response, ProxyError> {
        let proxy = &self.service.proxy;
        let settings = &proxy.settings;
        let (parts, body) = request.into_parts();
        if parts.method == Method::TRACE || parts.method == Method::CONNECT {
            return Err(ProxyError::Method(parts.method));
        }
        // The raw path after `/proxy/{provider}/{connection_id}/`, as the caller encoded it.
        let raw = parts.uri.path().splitn(5, '/').nth(4).unwrap_or_default();
        let path = upstream::checked_path(raw)?;
        let environment = parts
            .headers
            .get(ENVIRONMENT_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty());
        let opted_in = parts
            .headers
            .get(RETRY_HEADER)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"true"));
        let mut outgoing = Outgoing::new(body, settings.max_body_bytes, settings.timeout)
            .await
            .map_err(|why| self.abandoned(why))?;
        proxy.watching.get_or_init(|| {
            let watcher: Arc<dyn super::store::changes::Watcher> = proxy.cache.clone();
            self.service.store.watch(watcher);
        });
        let mut prepared = self.prepared(environment, Renew::IfExpiring).await?;
        self.host = Some(Arc::clone(prepared.base.host()));
        let retry_allowed = opted_in || retry::idempotent(&parts.method);
        let mut schedule =
            retry::Schedule::new(settings.retries, settings.retry_budget, Instant::now());
        let mut renewed = false;
        loop {
            let url = prepared
                .base
                .join(&path, parts.uri.query(), &prepared.query)?;
            let headers = headers::outgoing(&parts.headers, &prepared.headers);
            self.attempts += 1;
            let sent = self
                .send(parts.method.clone(), url, headers, outgoing.next())
                .await;
            let answer = match sent {
                Ok(answer) => answer,
                Err(SendFailure::TimedOut) => {
                    return Err(ProxyError::Timeout(settings.timeout.as_secs()));
                }
                Err(SendFailure::Network(reason)) => {
                    if let Some(why) = outgoing.abandoned() {
                        return Err(self.abandoned(why));
                    }
                    if retry_allowed && outgoing.replayable() {
                        if let Some(wait) = schedule.next(None, Instant::now()) {
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                    }
                    return Err(ProxyError::Unreachable(reason));
                }
            };
            let status = answer.status();
            if status == StatusCode::UNAUTHORIZED && prepared.renewable && !renewed {
                renewed = true;
                let fresh = self
                    .prepared(environment, Renew::Refused(prepared.generation))
                    .await?;
                if fresh.same_credentials(&prepared) || !outgoing.replayable() {
                    return Ok(self.pass_back(answer));
                }
                prepared = fresh;
                continue;
            }
            if retry::retryable(status) && retry_allowed && outgoing.replayable() {
                let named = self.retry_headers();
                let asked = retry::asked_wait(answer.headers(), &named, SystemTime::now());
                if let Some(wait) = schedule.next(asked, Instant::now()) {
                    drop(answer);
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            return Ok(self.pass_back(answer));
        }
    }

    /// The connection's prepared credentials: from the cache while hot and fresh, else read
    /// (and renewed as `renew` says) and kept.
    async fn prepared(
        &self,
        environment: Option<&str>,
        renew: Renew,
    ) -> Result<Arc<Prepared>, ProxyError> {
        let service = self.service;
        let cache = &service.proxy.cache;
        if renew == Renew::IfExpiring {
            if let Some(hot) = cache.get(self.provider, self.connection_id, environment) {
                if hot.fresh(service.refresh_margin_secs) {
                    return Ok(hot);
                }
            }
        }
        let epoch = cache.epoch();
        let authorization = match service
            .authorization(self.provider, self.connection_id, environment, renew)
            .await
        {
            Ok(authorization) => authorization,
            Err(error) => {
                // Credentials the provider refused, or that the store can no longer vouch
                // for, are never served from memory again: the next call reads the store.
                cache.forget(self.provider, self.connection_id);
                return Err(error.into());
            }
        };
        let prepared = Arc::new(Prepared::new(authorization)?);
        cache.keep(
            epoch,
            self.provider,
            self.connection_id,
            environment,
            Arc::clone(&prepared),
        );
        Ok(prepared)
    }

    /// The rate-limit headers the provider's definition names.
    fn retry_headers(&self) -> crate::definition::types::RetryHeaders {
        self.service
            .providers
            .get(self.provider)
            .and_then(|provider| provider.api_auth.as_ref())
            .map(|api| api.retry.clone())
            .unwrap_or_default()
    }

    async fn send(
        &self,
        method: Method,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: UpstreamBody,
    ) -> Result<axum::http::Response<hyper::body::Incoming>, SendFailure> {
        let proxy = &self.service.proxy;
        let mut request = axum::http::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        // No limit on the whole exchange: a proxied body may stream for long, bounded instead
        // by the idle timeout of each side.
        match tokio::time::timeout(proxy.settings.timeout, proxy.client.send(request)).await {
            Err(_) => Err(SendFailure::TimedOut),
            Ok(sent) => sent,
        }
    }

    /// The provider's answer as this call's: status, headers (minus hop-by-hop), and the body
    /// streamed as it arrives.
    fn pass_back(&self, answer: axum::http::Response<hyper::body::Incoming>) -> Response {
        let (parts, body) = answer.into_parts();
        let idle = self.service.proxy.settings.timeout;
        let body = stream::Idle::new(body, idle, u64::MAX, None);
        let mut response = Response::new(Body::new(body));
        *response.status_mut() = parts.status;
        *response.headers_mut() = headers::incoming(&parts.headers);
        response
    }

    fn abandoned(&self, why: Abandoned) -> ProxyError {
        let settings = &self.service.proxy.settings;
        match why {
            Abandoned::TooLarge => ProxyError::TooLarge(settings.max_body_bytes),
            Abandoned::Idle => ProxyError::BodyStalled(settings.timeout.as_secs()),
        }
    }
}

#[cfg(test)]
mod tests;
