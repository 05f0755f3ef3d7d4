//! The HTML of the service's pages, rendered by minijinja from the templates beside this file
//! (compiled in with `include_str!`), with HTML auto-escaping on for every template: every
//! value from a definition, the platform or the user is text, never markup.

use std::sync::OnceLock;

use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, Value, context};
use serde::Serialize;

use super::model::PageModel;
use crate::service::state_hash;

/// The stylesheet every page links to (`style-src 'self'`).
pub(crate) const STYLESHEET: &str = include_str!("templates/page.css");

/// The stylesheet's version: the start of its SHA-256. Pages link to it with this in the URL,
/// so a browser may keep the stylesheet for a year and a changed one still reaches it at once.
pub(crate) fn stylesheet_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash = state_hash(STYLESHEET);
        hash.truncate(16);
        hash
    })
}

const CONNECT: &str = "connect.html";
const OUTCOME: &str = "outcome.html";

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        env.add_template(CONNECT, include_str!("templates/connect.html"))
            .expect("the connect page template parses");
        env.add_template(OUTCOME, include_str!("templates/outcome.html"))
            .expect("the outcome page template parses");
        env
    })
}

/// The connect page; `stylesheet` is the stylesheet's path.
pub(crate) fn connect_page(page: &PageModel, stylesheet: &str) -> String {
    environment()
        .get_template(CONNECT)
        .and_then(|template| {
            template.render(context! { page => Value::from(Serde(page)), stylesheet })
        })
        .expect("the connect page renders")
}

/// A link on an outcome page.
#[derive(Debug, Serialize)]
pub(crate) struct Link {
    /// Where it goes.
    pub(crate) url: String,
    /// What it says.
    pub(crate) text: String,
}

/// A page that says how something ended (connected, refused, expired), with an optional link
/// onwards.
pub(crate) fn outcome_page(
    title: &str,
    message: &str,
    link: Option<&Link>,
    stylesheet: &str,
) -> String {
    environment()
        .get_template(OUTCOME)
        .and_then(|template| {
            template
                .render(context! { title, message, link => Value::from(Serde(link)), stylesheet })
        })
        .expect("the outcome page renders")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_the_page_has_no_script() {
        let html = outcome_page(
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
            Some(&Link {
                url: "https://login.example.com/authorize?a=1&b=\"2\"".into(),
                text: "Continue".into(),
            }),
            "/connect/page.css",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("a=1&amp;b=&quot;2&quot;"), "{html}");
    }
}
