//! The connect page: the HTML page a platform's end user opens to connect a provider, built
//! from the provider's definition, so a platform does not write one per provider.
//!
//! `POST /connect/sessions` answers a `connect_url` (on `--public-url`) beside the
//! `authorization_url`. The page at that URL shows the provider's name and the scopes
//! requested with their descriptions, and asks what the platform left open: the data center
//! (when the provider cannot learn it from the callback), the environment, the connection
//! parameters, and for `api_key`, `basic` and `token_request` the credentials. It is a plain
//! form: it works without JavaScript, the browser checks each value's pattern and the server
//! checks everything again; a refused value shows the page again with the message next to its
//! field and stores nothing. A valid submission sends an OAuth user on to the provider (the
//! chosen data center's authorization URL and client id) or stores a credential connection
//! once the provider accepted it; the browser ends on the session's `return_to` with
//! `connection_id`, `provider` and `status=connected` (or `status=error&error=CODE`), or on a
//! page that says the window can be closed.
//!
//! It is made for phones and keyboards, and for screen readers: one column that fits any
//! width, controls at least 44 CSS pixels tall, a visible focus ring, the fields in page order,
//! each field's help and refusal tied to it (`aria-describedby`, `aria-invalid`) and every
//! refusal of a submission listed above the form with a link to its field. The looks are one
//! small stylesheet (`templates/page.css`), served by the service under a version taken from
//! its content, so browsers keep it for a year; no element carries a style of its own.
//!
//! What keeps it safe:
//! - The page token in the URL is random (256 bits) and stored only as its SHA-256; the page
//!   is single use (deleted when submitted, together with the session's own pending
//!   authorization, so a session completes once whichever way it goes) and expires with its
//!   session.
//! - `return_to` must be on an origin given with `--return-origin` (`return_to`): no open
//!   redirect.
//! - The form carries a CSRF token bound to the session and to the browser (`csrf`).
//! - Every page is sent with a Content-Security-Policy that allows no script at all, styles
//!   only from the service, form submission only to the service and the hosts the flow goes
//!   through, and no framing (also `X-Frame-Options: DENY`), with `Referrer-Policy: no-referrer`
//!   and `Cache-Control: no-store` (`headers`).
//! - The page holds nothing secret of the service: no client secret, no state or verifier, and
//!   a secret the user typed is never sent back in it.
//!
//! The parts, one job each: `model` (the questions, from the definition), `pattern` (a
//! definition's pattern as an HTML `pattern` attribute), `form` (reading and checking a
//! submission), `render` (the HTML, from minijinja templates with HTML escaping), `flow`
//! (what the service does at each step), `routes` (the HTTP side).

pub(crate) mod csrf;
pub(crate) mod flow;
pub(crate) mod form;
pub(crate) mod headers;
pub(crate) mod model;
pub(crate) mod pattern;
pub(crate) mod render;
pub(crate) mod return_to;
pub(crate) mod routes;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use url::Url;

pub use return_to::ReturnOrigins;

/// The path connect pages are served under (`<public URL>/connect/<token>`).
pub(crate) const PATH: &str = "/connect";

/// Where connect pages are served, and where they may send the browser at the end.
#[derive(Debug, Clone)]
pub struct ConnectPages {
    /// The service's public base URL (`--public-url`): connect URLs are built on it.
    pub public_url: Url,
    /// The origins a session's `return_to` may be on (`--return-origin`).
    pub return_origins: ReturnOrigins,
}

impl ConnectPages {
    /// The connect URL of a page token.
    pub(crate) fn connect_url(&self, token: &str) -> String {
        format!("{}{PATH}/{token}", self.base_path_url())
    }

    /// The path the CSRF cookie is scoped to: the connect pages under the public URL's path.
    pub(crate) fn cookie_path(&self) -> String {
        format!("{}{PATH}", self.public_url.path().trim_end_matches('/'))
    }

    /// Whether the browser reaches the service over https (the cookie is then `Secure`).
    pub(crate) fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    fn base_path_url(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }
}

/// What the platform fixed when it started the session; the page asks the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ConnectSettings {
    /// The data center, when the platform knows the user's.
    #[serde(default)]
    pub(crate) data_center: Option<String>,
    /// The environment, when the platform chose it.
    #[serde(default)]
    pub(crate) environment: Option<String>,
    /// Scopes requested; empty means the provider's defaults.
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// Connection parameters the platform gave.
    #[serde(default)]
    pub(crate) params: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_urls_and_the_cookie_path_follow_the_public_url() {
        let pages = |url: &str| ConnectPages {
            public_url: Url::parse(url).unwrap(),
            return_origins: ReturnOrigins::default(),
        };
        let root = pages("https://forge.example.com");
        assert_eq!(
            root.connect_url("tok"),
            "https://forge.example.com/connect/tok"
        );
        assert_eq!(root.cookie_path(), "/connect");
        assert!(root.is_https());
        let prefixed = pages("http://example.com/forge/");
        assert_eq!(
            prefixed.connect_url("tok"),
            "http://example.com/forge/connect/tok"
        );
        assert_eq!(prefixed.cookie_path(), "/forge/connect");
        assert!(!prefixed.is_https());
    }
}
