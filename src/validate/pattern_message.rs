//! Readable wording for a schema `pattern` failure: the format's placeholder and URL patterns
//! (`definition::patterns`) are regexes nobody can read in a message, so a failure is told in
//! the words of the rule the pattern stands for, the same words resolution uses.

use crate::definition::patterns::{
    NAME_PATTERN, PARAMETER_VALUE_PATTERN, TOKEN_URL_TEMPLATE_PATTERN, URL_PATTERN,
    URL_TEMPLATE_PATTERN, VALUE_PATTERN,
};
use crate::diagnostics::Kind;
use crate::resolve::url_rules::{UrlRole, check_url, escape_controls};

/// A readable message for a schema `pattern` failure of one of this crate's template and
/// URL patterns, instead of the regex itself: `(kind, message, hint)` with the kind resolution
/// gives the same mistake, or `None` for a pattern this function does not know.
pub(crate) fn pattern_problem(pattern: &str, value: &str) -> Option<(Kind, String, String)> {
    let placeholder = |(message, hint)| (Kind::BadPlaceholder, message, hint);
    if pattern == NAME_PATTERN {
        return Some(placeholder((
            format!("`{value}` is not a valid placeholder name"),
            "use letters, digits and `_`, starting with a letter, e.g. `api_host`".to_owned(),
        )));
    }
    if pattern == VALUE_PATTERN || pattern == PARAMETER_VALUE_PATTERN {
        return placeholder_problem(value).map(placeholder);
    }
    url_problem(pattern, value)
}

/// A placeholder written in another tool's syntax or left unclosed in `value`.
fn placeholder_problem(value: &str) -> Option<(String, String)> {
    use crate::resolve::template::{self, brace_problem, malformed_problem};
    if value.contains(['{', '}']) {
        return Some(brace_problem(value));
    }
    match template::placeholders(value) {
        Err(template::PlaceholderError::Malformed { at }) => Some(malformed_problem(value, at)),
        _ => None,
    }
}

/// A URL or URL template that breaks one of the URL patterns.
fn url_problem(pattern: &str, value: &str) -> Option<(Kind, String, String)> {
    use crate::resolve::template;
    if pattern != URL_TEMPLATE_PATTERN
        && pattern != URL_PATTERN
        && pattern != TOKEN_URL_TEMPLATE_PATTERN
    {
        return None;
    }
    if pattern != URL_PATTERN && template::uses_credentials(value) {
        let before_query = value.split_once('?').map_or(value, |(before, _)| before);
        let message = if template::uses_credentials(before_query) {
            format!("a credential is used in the host or path of `{value}`")
        } else if pattern == URL_TEMPLATE_PATTERN {
            format!("a credential is used in the query string of `{value}`")
        } else {
            format!("`{value}` is not a URL template")
        };
        return Some((
            Kind::MisplacedCredential,
            message,
            format!(
                "credentials are never in a host or a path; {}",
                template::CREDENTIAL_PLACES
            ),
        ));
    }
    if pattern == URL_PATTERN && value.contains('<') && !value.contains(['{', '}']) {
        return Some((
            Kind::BadPlaceholder,
            format!("`{value}` cannot use placeholders"),
            "write this URL out in full: it is the same for every data center and connection"
                .to_owned(),
        ));
    }
    if let Some((message, hint)) = placeholder_problem(value) {
        return Some((Kind::BadPlaceholder, message, hint));
    }
    let (message, hint) = literal_problem(value).unwrap_or_else(|| {
        (
            format!("`{}` is not an https URL", escape_controls(value)),
            "write an https URL (http only to a loopback host: 127.0.0.1, ::1, localhost)"
                .to_owned(),
        )
    });
    Some((Kind::BadUrl, message, hint))
}

/// What the URL rules refuse in `value`; in a template, only what its literal text already
/// breaks can be named.
fn literal_problem(value: &str) -> Option<(String, String)> {
    if !value.contains('<') {
        return check_url(value, UrlRole::Endpoint)
            .err()
            .map(|problem| (problem.message, problem.hint.unwrap_or_default()));
    }
    let shown = escape_controls(value);
    if value.starts_with("http://") {
        Some((
            format!("`{shown}` uses http; secrets would travel unencrypted"),
            "use https (http is allowed only for loopback hosts: 127.0.0.1, ::1, localhost)"
                .to_owned(),
        ))
    } else if value.contains(char::is_whitespace) {
        Some((
            format!("`{shown}` has whitespace, which a URL cannot hold"),
            "remove it, or percent-encode a space as `%20`".to_owned(),
        ))
    } else if !value.is_ascii() {
        Some((
            format!("`{shown}` has non-ASCII characters"),
            "write a host in punycode (`xn--...`) and percent-encode other characters, as the URL is sent".to_owned(),
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::patterns::{NAME_PATTERN as NAME, VALUE_PATTERN as VALUE};

    #[test]
    fn a_pattern_failure_reads_as_a_sentence_not_a_regex() {
        let explain = |pattern, value| {
            let (_, message, hint) = pattern_problem(pattern, value).unwrap();
            (message, hint)
        };
        let kind = |pattern, value| pattern_problem(pattern, value).unwrap().0;
        let (message, hint) = explain(URL_TEMPLATE_PATTERN, "https://${login_host}/auth");
        assert_eq!(
            message,
            "`${login_host}` looks like Nango's placeholder syntax; placeholders here are written `<login_host>`"
        );
        assert!(hint.starts_with("write `<login_host>`"), "{hint}");
        // The same words as the rule that would have refused it after expansion.
        let (message, _) = explain(URL_PATTERN, "http://api.example.com/cb");
        assert_eq!(
            message,
            check_url("http://api.example.com/cb", UrlRole::Redirect)
                .unwrap_err()
                .message
        );
        let (message, _) = explain(URL_TEMPLATE_PATTERN, "https://<accounts_host/oauth");
        assert_eq!(
            message,
            "malformed placeholder at character 9 of `https://<accounts_host/oauth`"
        );
        let (message, _) = explain(URL_TEMPLATE_PATTERN, "ftp://<host>/x");
        assert_eq!(message, "`ftp://<host>/x` is not an https URL");
        let (message, _) = explain(URL_TEMPLATE_PATTERN, "https://<host>/caf\u{e9}");
        assert_eq!(
            message,
            "`https://<host>/caf\u{e9}` has non-ASCII characters"
        );
        let (message, _) = explain(URL_PATTERN, "https://<host>/cb");
        assert_eq!(message, "`https://<host>/cb` cannot use placeholders");
        let (message, _) = explain(NAME, "api-host");
        assert_eq!(message, "`api-host` is not a valid placeholder name");
        let (message, _) = explain(VALUE, "{{dc}}.zoho.com");
        assert!(
            message.starts_with("`{{dc}}` looks like a Jinja"),
            "{message}"
        );
        assert_eq!(pattern_problem("^[a-z]+$", "A"), None);
        // Each failure has the kind resolution gives the same mistake.
        assert_eq!(kind(NAME, "api-host"), Kind::BadPlaceholder);
        assert_eq!(
            kind(URL_TEMPLATE_PATTERN, "https://<host/x"),
            Kind::BadPlaceholder
        );
        assert_eq!(kind(URL_PATTERN, "http://api.example.com/cb"), Kind::BadUrl);
        assert_eq!(
            kind(
                URL_TEMPLATE_PATTERN,
                "https://<credentials.key>.example.com/x"
            ),
            Kind::MisplacedCredential
        );
        for (pattern, value) in [
            (URL_TEMPLATE_PATTERN, "https://${login_host}/auth"),
            (URL_PATTERN, "http://api.example.com/cb"),
        ] {
            assert!(!explain(pattern, value).0.contains(pattern));
        }
    }
}
