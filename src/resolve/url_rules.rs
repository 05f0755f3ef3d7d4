//! What a URL in a provider definition must be, once its placeholders are expanded.
//!
//! Secrets travel to these URLs, so the rules are strict: https only (plain http only to a
//! loopback host, RFC 8252), no credentials embedded in the URL, and a host that is a valid DNS
//! name, so that a typo such as `accounts..zoho.eu` is caught before a user hits it.
//!
//! And a URL must be written exactly as it will be called: its text must be the url crate's
//! normalised form (the form the HTTP client sends), so the table `render` prints is byte for
//! byte what the engine calls. Tabs and newlines (which URL parsers drop), `HTTPS://`,
//! backslashes, full-width dots and unencoded spaces are refused with the normalised form as
//! the fix; a host with non-ASCII letters (look-alikes of Latin ones) must be written in
//! punycode (`xn--...`), so what a reviewer reads is the host that is contacted.

use url::{Host, Url};

use crate::diagnostics::Kind;

use super::dns::check_dns_name;

/// What a URL is used for, which decides the extra rules it must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlRole {
    /// An endpoint the engine sends requests to (authorization, token, revoke, API base).
    Endpoint,
    /// The issuer: an origin, or (OIDC) an https URL with a path; no query, no trailing slash.
    Origin,
    /// The redirect URI: no fragment (RFC 6749 section 3.1.2).
    Redirect,
}

/// A URL that breaks a rule: what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlProblem {
    /// Which rule is broken, so the same mistake in every data center is reported once.
    pub rule: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl UrlProblem {
    /// The kind of diagnostic the problem is: a host a connection value could move (the
    /// host-shape rule), or a URL that breaks the URL rules.
    pub(crate) fn kind(&self) -> Kind {
        match self.rule {
            FIXED_HOST => Kind::MovableHost,
            _ => Kind::BadUrl,
        }
    }
}

/// The rule of a host a connection value could move to another domain.
pub(crate) const FIXED_HOST: &str = "fixed-host";

fn problem(rule: &'static str, message: String, hint: &str) -> UrlProblem {
    UrlProblem {
        rule,
        message,
        hint: Some(hint.to_owned()),
    }
}

/// Checks one expanded URL and returns it parsed.
pub(crate) fn check_url(text: &str, role: UrlRole) -> Result<Url, UrlProblem> {
    let url = Url::parse(text).map_err(|error| {
        problem(
            "parse",
            format!("`{text}` is not a valid URL: {error}"),
            "write an absolute URL such as https://accounts.example.com/oauth/token",
        )
    })?;
    let loopback = is_loopback(&url);
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(problem(
                "http",
                format!("`{text}` uses http; secrets would travel unencrypted"),
                "use https (http is allowed only for loopback hosts: 127.0.0.1, ::1, localhost)",
            ));
        }
        other => {
            return Err(problem(
                "scheme",
                format!("`{text}` has scheme `{other}`, expected https"),
                "use an https URL",
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(problem(
            "credentials",
            format!("`{}` carries credentials in the URL", redact_userinfo(&url)),
            "remove the user:password@ part; credentials belong in the client configuration",
        ));
    }
    match url.host() {
        Some(Host::Domain(domain)) => check_dns_name(domain).map_err(|reason| {
            problem(
                "dns",
                format!("`{text}` has host `{domain}`, which is not a valid DNS name: {reason}"),
                "check the host and the placeholder values that build it",
            )
        })?,
        Some(Host::Ipv4(_)) | Some(Host::Ipv6(_)) if loopback => {}
        Some(_) => {
            return Err(problem(
                "ip",
                format!("`{text}` uses an IP address as host"),
                "use the provider's DNS name (IP literals are allowed only for loopback)",
            ));
        }
        None => {
            return Err(problem(
                "host",
                format!("`{text}` has no host"),
                "add a host",
            ));
        }
    }
    if url.fragment().is_some() && role != UrlRole::Endpoint {
        return Err(problem(
            "fragment",
            format!("`{text}` has a fragment (#...)"),
            "remove the fragment; redirect URIs and issuers must not carry one",
        ));
    }
    check_ascii_host(text, &url)?;
    check_normalised(text, &url, role)?;
    if role == UrlRole::Origin && (url.query().is_some() || text.ends_with('/')) {
        return Err(problem(
            "origin",
            format!("`{text}` is not an issuer identifier"),
            "write the issuer exactly as the provider publishes it: scheme and host, or an OIDC issuer URL with a path, without a query or trailing slash",
        ));
    }
    Ok(url)
}

/// What follows the first `://` of `text`, if it has one: `split_once("://")` without setting
/// up a substring searcher for a three-byte needle, for every URL of every data center.
pub(crate) fn after_scheme(text: &str) -> Option<&str> {
    text.match_indices(':')
        .find_map(|(at, _)| text[at..].strip_prefix("://"))
}

/// The start of `rest` up to its first `/`, `?` or `#`: the authority, when `rest` is what
/// follows a URL's `://`.
pub(crate) fn authority(rest: &str) -> &str {
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Refuses a host written with non-ASCII characters: it must be written in punycode, the form
/// that is looked up, so look-alike letters cannot hide in a definition.
pub(crate) fn check_ascii_host(text: &str, url: &Url) -> Result<(), UrlProblem> {
    let Some(Host::Domain(host)) = url.host() else {
        return Ok(());
    };
    let written = authority(after_scheme(text).unwrap_or(text));
    if written.is_ascii() {
        return Ok(());
    }
    Err(UrlProblem {
        rule: "unicode-host",
        message: format!(
            "`{}` has a host with non-ASCII characters",
            escape_controls(text)
        ),
        hint: Some(format!(
            "write the host in punycode, as it is looked up: `{host}` (and check that it is the host you mean)"
        )),
    })
}

/// Refuses a URL whose text is not its normalised form (the one the HTTP client sends). An
/// empty path is the one difference allowed: `https://accounts.zoho.eu` means
/// `https://accounts.zoho.eu/`, and origins are written without the slash.
pub(crate) fn check_normalised(text: &str, url: &Url, role: UrlRole) -> Result<(), UrlProblem> {
    let normalised = url.as_str();
    let bare_root = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if text == normalised || (bare_root && normalised.strip_suffix('/') == Some(text)) {
        return Ok(());
    }
    let suggestion = if bare_root && (role == UrlRole::Origin || !text.ends_with('/')) {
        normalised.strip_suffix('/').unwrap_or(normalised)
    } else {
        normalised
    };
    Err(UrlProblem {
        rule: "normalised",
        message: format!(
            "`{}` is not written the way it will be called (`{suggestion}`)",
            escape_controls(text)
        ),
        hint: Some(format!(
            "write `{suggestion}`: URLs are compared and printed as written, so they must be in \
             normalised form (lowercase scheme and host, `/` not `\\`, no tabs, newlines or \
             spaces, special characters percent-encoded)"
        )),
    })
}

/// The text with its control characters (tabs, newlines) shown as escapes, so a message
/// stays on one line and shows what the URL parser would have dropped.
pub(crate) fn escape_controls(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// True for the hosts RFC 8252 lets a native client listen on over plain http.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn redact_userinfo(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("***");
    let _ = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str, role: UrlRole) -> String {
        check_url(text, role).unwrap_err().message
    }

    #[test]
    fn accepts_https_and_loopback_http() {
        assert!(
            check_url(
                "https://accounts.zohocloud.ca/oauth/v2/auth",
                UrlRole::Endpoint
            )
            .is_ok()
        );
        assert!(check_url("http://127.0.0.1:8080/callback", UrlRole::Redirect).is_ok());
        assert!(check_url("http://[::1]/callback", UrlRole::Redirect).is_ok());
        assert!(check_url("http://localhost:3000/cb", UrlRole::Redirect).is_ok());
    }

    #[test]
    fn rejects_http_to_a_remote_host() {
        assert!(
            message("http://accounts.zoho.com/oauth/v2/token", UrlRole::Endpoint)
                .contains("uses http")
        );
    }

    #[test]
    fn rejects_credentials_without_echoing_them() {
        let m = message(
            "https://user:hunter2@accounts.zoho.com/x",
            UrlRole::Endpoint,
        );
        assert!(m.contains("credentials"));
        assert!(!m.contains("hunter2"));
    }

    #[test]
    fn rejects_hosts_that_are_not_dns_names() {
        assert!(message("https://accounts..zoho.com/x", UrlRole::Endpoint).contains("empty label"));
        assert!(
            message("https://accounts.zoho.-eu/x", UrlRole::Endpoint).contains("starts or ends")
        );
        assert!(message("https://10.0.0.1/x", UrlRole::Endpoint).contains("IP address"));
    }

    #[test]
    fn issuers_have_no_query_or_trailing_slash() {
        assert!(check_url("https://accounts.zoho.eu", UrlRole::Origin).is_ok());
        assert!(
            check_url(
                "https://login.microsoftonline.com/common/v2.0",
                UrlRole::Origin
            )
            .is_ok()
        );
        assert!(message("https://accounts.zoho.eu/", UrlRole::Origin).contains("not an issuer"));
        assert!(
            message("https://accounts.zoho.eu/oauth/", UrlRole::Origin).contains("not an issuer")
        );
        assert!(
            message("https://accounts.zoho.eu/oauth?x=1", UrlRole::Origin)
                .contains("not an issuer")
        );
    }

    #[test]
    fn redirects_have_no_fragment() {
        assert!(
            message("https://api.nango.dev/oauth/callback#x", UrlRole::Redirect)
                .contains("fragment")
        );
    }

    #[test]
    fn rejects_urls_not_written_in_normalised_form_with_the_normalised_form() {
        for (text, normalised) in [
            (
                "HTTPS://accounts.zoho.eu/oauth",
                "https://accounts.zoho.eu/oauth",
            ),
            (
                "https://Accounts.Zoho.EU/oauth",
                "https://accounts.zoho.eu/oauth",
            ),
            (
                "https://accounts.zoho.eu/oa\tuth",
                "https://accounts.zoho.eu/oauth",
            ),
            (
                "https://accounts.zoho.eu/oauth\n",
                "https://accounts.zoho.eu/oauth",
            ),
            (
                "https://accounts.zoho.eu\\oauth\\token",
                "https://accounts.zoho.eu/oauth/token",
            ),
            (
                "https://accounts.zoho.eu/a b",
                "https://accounts.zoho.eu/a%20b",
            ),
            (
                "https://accounts.zoho.eu:443/x",
                "https://accounts.zoho.eu/x",
            ),
            (
                "https://accounts.zoho.eu/a/../x",
                "https://accounts.zoho.eu/x",
            ),
        ] {
            let problem = check_url(text, UrlRole::Endpoint).unwrap_err();
            assert_eq!(problem.rule, "normalised", "{text:?}");
            assert!(
                problem
                    .hint
                    .as_deref()
                    .unwrap()
                    .contains(&format!("`{normalised}`")),
                "{text:?}: {problem:?}"
            );
        }
        let origin = check_url("HTTPS://accounts.zoho.eu", UrlRole::Origin).unwrap_err();
        assert!(
            origin
                .hint
                .unwrap()
                .starts_with("write `https://accounts.zoho.eu`:")
        );
    }

    #[test]
    fn accepts_normalised_urls_with_or_without_an_empty_path() {
        for text in [
            "https://www.zohoapis.eu",
            "https://www.zohoapis.eu/",
            "https://accounts.zoho.eu/oauth/v2/token?x=1&y=%20",
            "https://gitlab.com/oauth/authorize",
            "http://127.0.0.1:8765/callback",
        ] {
            assert!(check_url(text, UrlRole::Endpoint).is_ok(), "{text}");
        }
    }

    #[test]
    fn hosts_with_non_ascii_letters_must_be_written_in_punycode() {
        // Cyrillic `о` in place of the Latin one.
        let problem = check_url("https://accounts.z\u{43e}ho.eu/x", UrlRole::Endpoint).unwrap_err();
        assert_eq!(problem.rule, "unicode-host");
        let hint = problem.hint.unwrap();
        let punycode = hint
            .split('`')
            .nth(1)
            .expect("the hint shows the host in punycode");
        assert!(punycode.starts_with("accounts.xn--"), "{hint}");
        assert!(punycode.is_ascii(), "{hint}");
        let written = format!("https://{punycode}/x");
        assert!(check_url(&written, UrlRole::Endpoint).is_ok(), "{written}");
        // Full-width and ideographic dots are not ASCII either; the hint shows the real host.
        let problem = check_url(
            "https://accounts\u{ff0e}zoho\u{3002}eu/x",
            UrlRole::Endpoint,
        )
        .unwrap_err();
        assert_eq!(problem.rule, "unicode-host");
        assert!(problem.hint.unwrap().contains("`accounts.zoho.eu`"));
    }

    #[test]
    fn rejects_unparseable_urls() {
        assert!(message("not a url", UrlRole::Endpoint).contains("not a valid URL"));
    }
    use crate::definition::patterns::{
        NAME_PATTERN as NAME, TOKEN_URL_TEMPLATE_PATTERN, URL_PATTERN, URL_TEMPLATE_PATTERN,
        VALUE_PATTERN as VALUE,
    };

    fn matches(pattern: &str, text: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn the_url_patterns_accept_every_url_the_rules_accept() {
        // yaml-language-server users must never see an error `validate` does not give.
        for url in [
            "https://accounts.zoho.com/oauth/v2/auth",
            "https://api.example.com/v1?a=b&c=d#frag",
            "https://login.example.com:8443/common",
            "http://localhost",
            "http://localhost:3000/cb",
            "http://127.0.0.1:8080/callback",
            "http://127.9.9.9/x",
            "http://[::1]/callback",
        ] {
            assert!(check_url(url, UrlRole::Endpoint).is_ok(), "{url}");
            assert!(matches(URL_PATTERN, url), "{url}");
            assert!(matches(URL_TEMPLATE_PATTERN, url), "{url}");
        }
        for template in [
            "https://<accounts_host>/oauth/v2/auth",
            "https://www.zohoapis.<dc>",
            "https://<subdomain>.myshopify.com/admin/oauth/access_token",
            "<instance_url>/services/oauth2/token",
            "https://login.microsoftonline.com/<tenant>/v2.0",
            // Only expansion can tell whether these hosts are loopback.
            "http://<host>/callback",
            "http://local<suffix>:8080/cb",
        ] {
            assert!(matches(URL_TEMPLATE_PATTERN, template), "{template}");
        }
    }

    #[test]
    fn the_url_patterns_refuse_what_the_rules_refuse() {
        for url in [
            "http://accounts.zoho.com/oauth/v2/token",
            "http://localhost.evil.example/cb",
            "ftp://files.example.com",
            "https://a.example.com/a b",
            "https://${login_host}/auth",
            "https://x.example.com/?v={{version}}",
            "https://<accounts_host/oauth",
            "accounts.zoho.com/oauth",
            "https://gitlab\u{ff0e}com/oauth/authorize",
            "https://gitlab.com/oauth/re\tvoke",
            "https://<host>/caf\u{e9}",
        ] {
            assert!(!matches(URL_TEMPLATE_PATTERN, url), "{url}");
            assert!(!matches(URL_PATTERN, url), "{url}");
        }
        assert!(!matches(URL_PATTERN, "https://<accounts_host>/x"));
        for token_url in [
            "https://auth.example.com/token?grant_type=client_credentials&key=<credentials.apiKey>",
            "https://<host>/token?auth=<base64(<credentials.user>:<credentials.pass>)>",
            "https://auth.example.com/token",
        ] {
            assert!(
                matches(TOKEN_URL_TEMPLATE_PATTERN, token_url),
                "{token_url}"
            );
        }
        for token_url in [
            "https://<credentials.apiKey>.example.com/token",
            "https://auth.example.com/<credentials.apiKey>/token",
            "https://auth.example.com/token?key=${apiKey}",
        ] {
            assert!(
                !matches(TOKEN_URL_TEMPLATE_PATTERN, token_url),
                "{token_url}"
            );
        }
        assert!(!matches(
            URL_TEMPLATE_PATTERN,
            "https://auth.example.com/token?key=<credentials.apiKey>"
        ));
        assert!(matches(NAME, "tenantId") && !matches(NAME, "tenant-id"));
        assert!(matches(VALUE, "accounts.zoho.<dc>") && !matches(VALUE, "${dc}.zoho.com"));
    }
}
