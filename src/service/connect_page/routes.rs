//! The HTTP side of the connect page: `GET /connect/{token}` shows it, `POST /connect/{token}`
//! takes its form, `GET /connect/page.css` is its stylesheet. None of them takes the API key:
//! the page token in the URL is the end user's capability, and the CSRF token ties a
//! submission to the browser the page was shown in.
//!
//! Pages link to the stylesheet as `page.css?v=VERSION`, the version taken from its content
//! ([`render::stylesheet_version`]), so it is served to be kept for a year without asking
//! again: a changed stylesheet comes with a new URL.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::flow::{Next, OpenPage, PageRefusal, landing_for};
use super::model::{Entered, Refusals};
use super::render::{self, Link, STYLESHEET};
use super::return_to::Outcome;
use super::{PATH, csrf, form, headers};
use crate::service::api::{AppState, status_and_code};
use crate::service::shared_responses::StorePageFailed;
use crate::service::{Service, ServiceError};

/// The routes of the connect pages.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PATH}/page.css"), get(stylesheet))
        .route(&format!("{PATH}/{{token}}"), get(show).post(submit))
}

/// `GET /connect/page.css`.
#[utoipa::path(
    get,
    path = "/connect/page.css",
    description = "The connect pages' stylesheet. Pages link to it with `?v=` and a version taken from its content, so it may be cached for a year.",
    responses((status = 200, description = "The stylesheet", content_type = "text/css"))
)]
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// `GET /connect/{token}`.
#[utoipa::path(
    get,
    path = "/connect/{token}",
    params(("token" = String, Path, description = "The page token of the session's connect_url")),
    description = "The connect page (HTML) of a session: the provider, the scopes requested, and a form for what the session left open (data center, environment, connection parameters, credentials). Sets the CSRF cookie. No API key: the URL is the end user's.",
    responses(
        (status = 200, description = "The page", content_type = "text/html"),
        (status = 404, description = "Unknown or already used (HTML page)", content_type = "text/html"),
        (status = 410, description = "The session expired (HTML page)", content_type = "text/html"),
        StorePageFailed
    )
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request_headers: HeaderMap,
) -> Response {
    let service = &state.service;
    let page = match service.open_connect_page(&token).await {
        Ok(page) => page,
        Err(refusal) => return refused(service, refusal),
    };
    form_page(
        service,
        &page,
        &request_headers,
        StatusCode::OK,
        &Entered::new(),
        &Refusals::default(),
    )
}

/// `POST /connect/{token}`.
#[utoipa::path(
    post,
    path = "/connect/{token}",
    params(("token" = String, Path, description = "The page token of the session's connect_url")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "The page's form: csrf, data_center, environment, param.NAME, credential.NAME"),
    description = "Takes the connect page's form. Every value is checked again on the server; a refused one shows the page again with the message next to its field and stores nothing. An OAuth provider: 303 to its authorization URL (or a page with a link to it when its host depends on a value typed). A credential provider: verified at the provider, stored, then 303 to return_to with status=connected.",
    responses(
        (status = 303, description = "On to the provider, or to return_to"),
        (status = 200, description = "Connected (no return_to), or a link on to the provider (HTML page)", content_type = "text/html"),
        (status = 400, description = "A value refused: the page again, with the messages (HTML)", content_type = "text/html"),
        (status = 403, description = "The CSRF check failed: the page again (HTML)", content_type = "text/html"),
        (status = 404, description = "Unknown or already used (HTML page)", content_type = "text/html"),
        (status = 410, description = "The session expired, or the page was used meanwhile (HTML page)", content_type = "text/html"),
        (status = 502, description = "The provider could not be reached or failed; nothing was stored (HTML page)", content_type = "text/html"),
        StorePageFailed
    )
)]
pub(crate) async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request_headers: HeaderMap,
    body: Bytes,
) -> Response {
    let service = &state.service;
    let page = match service.open_connect_page(&token).await {
        Ok(page) => page,
        Err(refusal) => return refused(service, refusal),
    };
    let entered = form::read(&body);
    let checked = csrf::nonce(&request_headers).is_some_and(|nonce| {
        entered
            .get(csrf::FIELD)
            .is_some_and(|presented| csrf::verify(&page.token, &nonce, presented))
    });
    if !checked {
        let refusals = Refusals::form(
            "This form could not be checked: it was opened in another browser, or cookies are off. Submit it again.",
        );
        return form_page(
            service,
            &page,
            &request_headers,
            StatusCode::FORBIDDEN,
            &entered,
            &refusals,
        );
    }
    let form = service.connect_form(&page);
    let answers = match form::check(&form, &entered) {
        Ok(answers) => answers,
        Err(refusals) => {
            return form_page(
                service,
                &page,
                &request_headers,
                StatusCode::BAD_REQUEST,
                &entered,
                &refusals,
            );
        }
    };
    match service.submit_connect_page(&page, answers).await {
        Ok(Next::Redirect(url)) => see_other(&url),
        Ok(Next::Continue(url)) => outcome(
            service,
            StatusCode::OK,
            &format!("Continue to {}", page.provider.display_name),
            &format!(
                "Sign in to {} to allow access. The link is good for this connection only.",
                page.provider.display_name
            ),
            Some(&Link {
                url,
                text: format!("Continue to {}", page.provider.display_name),
            }),
        ),
        Ok(Next::Connected) => match landing_for(&page.record, Outcome::Connected) {
            Some(url) => see_other(&url),
            None => outcome(
                service,
                StatusCode::OK,
                "Connected",
                &format!(
                    "The connection to {} is set up. You can close this window.",
                    page.provider.display_name
                ),
                None,
            ),
        },
        Ok(Next::Refused(refusals)) => form_page(
            service,
            &page,
            &request_headers,
            StatusCode::BAD_REQUEST,
            &entered,
            &refusals,
        ),
        Ok(Next::Used) => refused(service, PageRefusal::Unknown),
        Err(error) => failed(service, &error),
    }
}

/// The form page, with the CSRF cookie set when the browser has none.
fn form_page(
    service: &Service,
    page: &OpenPage,
    request_headers: &HeaderMap,
    status: StatusCode,
    entered: &Entered,
    refusals: &Refusals,
) -> Response {
    let (nonce, fresh) = match csrf::nonce(request_headers) {
        Some(nonce) => (nonce, false),
        None => (csrf::new_nonce(), true),
    };
    let model =
        service
            .connect_form(page)
            .model(entered, refusals, &csrf::token(&page.token, &nonce));
    let html = render::connect_page(&model, &stylesheet_path(service));
    let mut response = (
        status,
        headers::page_headers(&service.form_action(page)),
        Html(html),
    )
        .into_response();
    if fresh {
        let (path, secure) = service
            .connect
            .as_ref()
            .map_or((PATH.to_owned(), false), |pages| {
                (pages.cookie_path(), pages.is_https())
            });
        response
            .headers_mut()
            .insert(header::SET_COOKIE, csrf::set_cookie(&nonce, &path, secure));
    }
    response
}

/// A page that says how something ended.
pub(crate) fn outcome(
    service: &Service,
    status: StatusCode,
    title: &str,
    message: &str,
    link: Option<&Link>,
) -> Response {
    let html = render::outcome_page(title, message, link, &stylesheet_path(service));
    (status, headers::page_headers(&[]), Html(html)).into_response()
}

/// `303 See Other` to `url`, without a referrer (the page's URL holds its token).
pub(crate) fn see_other(url: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(url) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
    )
        .into_response()
}

fn refused(service: &Service, refusal: PageRefusal) -> Response {
    match refusal {
        PageRefusal::Unknown => outcome(
            service,
            StatusCode::NOT_FOUND,
            "Link not valid",
            "This link is unknown or was already used. Start connecting again from the application.",
            None,
        ),
        PageRefusal::Expired => outcome(
            service,
            StatusCode::GONE,
            "Link expired",
            "This link expired. Start connecting again from the application.",
            None,
        ),
        PageRefusal::Failed(error) => failed(service, &error),
    }
}

fn failed(service: &Service, error: &ServiceError) -> Response {
    let (status, _) = status_and_code(error);
    outcome(
        service,
        status,
        "Connection failed",
        &error.to_string(),
        None,
    )
}

/// The stylesheet's path under the public URL.
pub(crate) fn stylesheet_path(service: &Service) -> String {
    let base = service
        .connect
        .as_ref()
        .map_or_else(|| PATH.to_owned(), |pages| pages.cookie_path());
    format!("{base}/page.css?v={}", render::stylesheet_version())
}
