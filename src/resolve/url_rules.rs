//! What a URL in a provider definition must be, once its placeholders are expanded.
//!
//! Secrets travel to these URLs, so the rules are strict: https only (plain http only to a
//! loopback host, RFC 8252), no credentials embedded in the URL, and a host that is a valid DNS
//! name, so that a typo such as `accounts..zoho.eu` is caught before a user hits it.

use url::{Host, Url};

/// What a URL is used for, which decides the extra rules it must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlRole {
    /// An endpoint the engine sends requests to (authorization, token, revoke, API base).
    Endpoint,
    /// The issuer: an origin, or (OIDC) an https URL with a path; no query, no trailing slash.
    Origin,
    /// The redirect URI: no fragment (RFC 6749 section 3.1.2).
    Redirect,
}

/// A URL that breaks a rule: what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlProblem {
    /// Which rule is broken, so the same mistake in every data center is reported once.
    pub rule: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

fn problem(rule: &'static str, message: String, hint: &str) -> UrlProblem {
    UrlProblem {
        rule,
        message,
        hint: Some(hint.to_owned()),
    }
}

/// Checks one expanded URL and returns it parsed.
pub fn check_url(text: &str, role: UrlRole) -> Result<Url, UrlProblem> {
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
    if role == UrlRole::Origin && (url.query().is_some() || text.ends_with('/')) {
        return Err(problem(
            "origin",
            format!("`{text}` is not an issuer identifier"),
            "write the issuer exactly as the provider publishes it: scheme and host, or an OIDC issuer URL with a path, without a query or trailing slash",
        ));
    }
    Ok(url)
}

/// True for the hosts RFC 8252 lets a native client listen on over plain http.
pub fn is_loopback(url: &Url) -> bool {
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

/// Checks a host name against RFC 1035/1123 label rules.
pub(crate) fn check_dns_name(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err("longer than 253 characters".into());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(
                "it has an empty label (two dots in a row, or a leading or trailing dot)".into(),
            );
        }
        if label.len() > 63 {
            return Err(format!("label `{label}` is longer than 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!(
                "label `{label}` has characters other than letters, digits and `-`"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("label `{label}` starts or ends with `-`"));
        }
    }
    Ok(())
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
    fn rejects_unparseable_urls() {
        assert!(message("not a url", UrlRole::Endpoint).contains("not a valid URL"));
    }
}
