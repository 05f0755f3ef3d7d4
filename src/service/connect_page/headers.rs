//! The response headers of the service's HTML pages (the connect page and what follows it,
//! the callback's pages).
//!
//! The Content-Security-Policy allows no script of any kind (`default-src 'none'`, no
//! `script-src`), styles and images only from the service, no `<base>`, and no framing
//! (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for browsers that predate it).
//! `form-action` lists `'self'` and the origins the submission's redirects go through: a
//! browser checks every redirect of a form submission against it, so it holds the provider's
//! authorization servers (every data center's, and the entry server that sends a user on to
//! theirs), the registered redirect URI's origin, and the session's `return_to` origin.
//! `Referrer-Policy: no-referrer` keeps the page's URL (its token) from reaching the provider,
//! and `Cache-Control: no-store` keeps the form (its CSRF token) out of caches.

use axum::http::{HeaderName, HeaderValue, header};
use url::Url;

/// The origin of a URL as a CSP source (`https://login.example.com`, the port when it is not
/// the scheme's default), or `None` for a URL without one.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    // A serialised tuple origin is scheme, host and port only; refuse anything that could end
    // the directive all the same.
    (!origin.contains([';', ',', ' ', '\'', '"'])).then_some(origin)
}

/// The Content-Security-Policy of a page whose form may lead to `form_action` (origins, as
/// [`origin_of`] gives them).
pub(crate) fn content_security_policy(form_action: &[String]) -> String {
    let mut sources = vec!["'self'".to_owned()];
    for origin in form_action {
        if !sources.contains(origin) {
            sources.push(origin.clone());
        }
    }
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action {}; frame-ancestors 'none'",
        sources.join(" ")
    )
}

/// Every header of an HTML page of the service.
pub(crate) fn page_headers(form_action: &[String]) -> [(HeaderName, HeaderValue); 6] {
    let csp = HeaderValue::from_str(&content_security_policy(form_action))
        .expect("origins serialised by url make a valid header");
    [
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(
            origin_of("https://login.microsoftonline.us/common/oauth2/v2.0/authorize?x=1")
                .as_deref(),
            Some("https://login.microsoftonline.us")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080/done").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin_of("https://accounts.zoho.eu:443/x").as_deref(),
            Some("https://accounts.zoho.eu")
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("https://<subdomain>.myshopify.com/x"), None);
    }

    #[test]
    fn the_policy_allows_no_script_and_no_framing() {
        let csp = content_security_policy(&[
            "https://login.microsoftonline.com".to_owned(),
            "https://login.microsoftonline.com".to_owned(),
        ]);
        assert_eq!(
            csp,
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self' https://login.microsoftonline.com; frame-ancestors 'none'"
        );
        assert!(!csp.contains("script"));
    }
}
