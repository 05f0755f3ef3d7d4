//! The upstream URL of a proxied call: the connection's API base URL, the caller's path under
//! it and the caller's query, built so that nothing the caller sends can change where the call
//! goes.
//!
//! By structure, not by looking at the result: the base URL is parsed once ([`Base`]), and its
//! scheme, host and port are never written again; the caller's path only ever becomes the path
//! after the base's path, and the caller's query only the query. Before that, a path is refused
//! (400, nothing sent) when a segment could make a less careful joiner, or a server that
//! normalises paths, go to another host or climb out of the base path:
//! - an empty segment (`//evil.com/x`, which a joiner reads as a host),
//! - `.` or `..`, in any spelling (`%2e%2E`),
//! - an encoded slash or backslash (`%2F`, `%5C`), which a server may decode into one,
//! - a raw backslash, which some parsers read as a slash,
//! - a raw `@`, the userinfo separator (a literal `@` goes as `%40`),
//! - a first segment that is a URL scheme (`https:`).
//!
//! The query is data after `?` and is kept as the caller wrote it, except a parameter the
//! definition sets (a credential), which is the definition's alone.
//!
//! The request's URI is assembled from parts: the scheme and authority are the base's, parsed
//! once and copied as they are; the caller's path and query only ever make up the
//! path-and-query part, which the URI parser reads as such and nothing else. So no text of the
//! caller's is ever parsed where a host could be read from it.

use std::sync::Arc;

use axum::http::Uri;
use axum::http::uri::{Authority, PathAndQuery, Scheme};
use url::Url;

/// The connection's API base URL, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Base {
    scheme: Scheme,
    authority: Authority,
    /// The host alone, for logs.
    host: Arc<str>,
    /// The base's path, without its trailing `/`.
    path: String,
    /// The base's own query, before the caller's.
    query: Option<String>,
}

/// Why a caller's path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct PathRefused(pub(crate) String);

impl Base {
    /// Parses an API base URL; it must be `http(s)` with a host, and without a user name or
    /// password (the credentials are the connection's).
    pub(crate) fn parse(text: &str) -> Result<Base, String> {
        let url = Url::parse(text).map_err(|e| format!("API base URL `{text}`: {e}"))?;
        let host = match url.host_str() {
            Some(host) if matches!(url.scheme(), "https" | "http") => host,
            _ => {
                return Err(format!(
                    "API base URL `{text}` is not an http(s) URL with a host"
                ));
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "API base URL `{text}` holds a user name or password; credentials come from the connection"
            ));
        }
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let unusable = |e: axum::http::uri::InvalidUri| format!("API base URL `{text}`: {e}");
        Ok(Base {
            scheme: Scheme::try_from(url.scheme()).map_err(unusable)?,
            authority: Authority::try_from(authority).map_err(unusable)?,
            host: Arc::from(host),
            path: url.path().trim_end_matches('/').to_owned(),
            query: url.query().map(str::to_owned),
        })
    }

    /// The host, for logs.
    pub(crate) fn host(&self) -> &Arc<str> {
        &self.host
    }

    /// The URI of `path` (checked with [`checked_path`]) under this base, with the caller's raw
    /// `query` (minus the parameters named in `set`) and then `set` itself.
    pub(crate) fn join(
        &self,
        path: &CheckedPath<'_>,
        query: Option<&str>,
        set: &[(String, String)],
    ) -> Result<Uri, PathRefused> {
        let mut target = String::with_capacity(
            self.path.len() + 1 + path.0.len() + query.map_or(0, |q| q.len() + 1) + 64,
        );
        target.push_str(&self.path);
        target.push('/');
        target.push_str(path.0);
        let mut separator = '?';
        let kept = self
            .query
            .as_deref()
            .into_iter()
            .chain(query)
            .flat_map(|query| query.split('&'))
            .filter(|piece| !piece.is_empty())
            .filter(|piece| !set.iter().any(|(name, _)| *name == parameter_name(piece)));
        for piece in kept {
            target.push(separator);
            target.push_str(piece);
            separator = '&';
        }
        if !set.is_empty() {
            target.push(separator);
            let start = target.len();
            url::form_urlencoded::Serializer::for_suffix(&mut target, start)
                .extend_pairs(set)
                .finish();
        }
        let path_and_query = PathAndQuery::try_from(target).map_err(|_| {
            PathRefused(
                "the path is refused: it holds characters a URL path cannot; percent-encode them"
                    .to_owned(),
            )
        })?;
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()
            .map_err(|e| PathRefused(format!("the path is refused: {e}")))
    }
}

/// The name of a raw query piece (`name=value`), decoded as a form decodes it.
fn parameter_name(piece: &str) -> String {
    let name = piece.split_once('=').map_or(piece, |(name, _)| name);
    url::form_urlencoded::parse(name.as_bytes())
        .next()
        .map(|(name, _)| name.into_owned())
        .unwrap_or_default()
}

/// A caller's raw path (as it came, percent-encoded) that can only ever be a path under a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CheckedPath<'p>(&'p str);

/// Checks the caller's raw path (without its leading `/`), segment by segment.
pub(crate) fn checked_path(raw: &str) -> Result<CheckedPath<'_>, PathRefused> {
    let refuse = |why: &str| Err(PathRefused(format!("the path is refused: {why}")));
    let last = raw.split('/').count() - 1;
    for (index, segment) in raw.split('/').enumerate() {
        let lower = segment.to_ascii_lowercase();
        // A trailing slash is a path like any other; an empty segment before another is not.
        if segment.is_empty() && index != last {
            return refuse(
                "it has an empty segment (`//`), which could name another host; give a path under the API base URL",
            );
        }
        let dots = lower.replace("%2e", ".");
        if dots == "." || dots == ".." {
            return refuse(
                "it has a `.` or `..` segment, which would climb out of the API base URL",
            );
        }
        if lower.contains("%2f") || lower.contains("%5c") {
            return refuse(
                "it has an encoded slash or backslash (`%2F`, `%5C`), which a server may read as a separator",
            );
        }
        if segment.contains('\\') {
            return refuse("it has a backslash, which some servers read as a slash");
        }
        if segment.contains('@') {
            return refuse("it has a raw `@`; send a literal `@` as `%40`");
        }
        if index == 0 && is_scheme(segment) {
            return refuse(
                "it starts with a URL scheme; give a path under the API base URL, not a URL",
            );
        }
    }
    Ok(CheckedPath(raw))
}

/// `https:` and the like: a scheme and its colon, nothing else.
fn is_scheme(segment: &str) -> bool {
    segment.strip_suffix(':').is_some_and(|scheme| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(base: &str, path: &str, query: Option<&str>) -> Result<String, PathRefused> {
        let base = Base::parse(base).unwrap();
        let path = checked_path(path)?;
        base.join(&path, query, &[]).map(|uri| uri.to_string())
    }

    #[test]
    fn the_path_goes_under_the_base_and_the_query_after_it_as_written() {
        assert_eq!(
            join(
                "https://www.zohoapis.eu",
                "crm/v8/Leads",
                Some("per_page=5&a=%20b")
            )
            .unwrap(),
            "https://www.zohoapis.eu/crm/v8/Leads?per_page=5&a=%20b"
        );
        assert_eq!(
            join("https://gitlab.com/api/v4/", "users/42%2Bx/keys", None).unwrap(),
            "https://gitlab.com/api/v4/users/42%2Bx/keys"
        );
        assert_eq!(
            join("https://api.example.com/v2", "tickets/", None).unwrap(),
            "https://api.example.com/v2/tickets/"
        );
        assert_eq!(
            join(
                "https://graph.microsoft.com/v1.0",
                "users/alice%40contoso.com/drive/root:/a.txt:/content",
                Some("redirect=https://evil.com/x&who=a@b")
            )
            .unwrap(),
            "https://graph.microsoft.com/v1.0/users/alice%40contoso.com/drive/root:/a.txt:/content?redirect=https://evil.com/x&who=a@b"
        );
    }

    #[test]
    fn paths_that_could_move_the_call_are_refused() {
        for path in [
            "/evil.com/x",
            "a//b",
            "a//",
            "..",
            "a/../../x",
            "a/%2e%2E/x",
            "%2E",
            "a%2Fb",
            "a%2fb",
            "a%5cb",
            "a\\b",
            "@evil.com/x",
            "x@evil.com",
            "https:/evil.com/x",
            "HTTP:",
        ] {
            let refused = join("https://api.example.com/v1", path, None);
            assert!(refused.is_err(), "{path}: {refused:?}");
        }
        // Text that only looks like a host or a scheme is a path segment like any other.
        assert_eq!(
            join("https://api.example.com", "evil.com/https:x", None).unwrap(),
            "https://api.example.com/evil.com/https:x"
        );
    }

    #[test]
    fn a_credential_parameter_is_the_definitions_alone() {
        let base = Base::parse("https://api.example.com/v1?fixed=1").unwrap();
        let url = base
            .join(
                &checked_path("items").unwrap(),
                Some("key=mine&k%65y=also&page=2&keyring=x"),
                &[("key".to_owned(), "s3cr&t".to_owned())],
            )
            .unwrap();
        assert_eq!(
            url.to_string(),
            "https://api.example.com/v1/items?fixed=1&page=2&keyring=x&key=s3cr%26t"
        );
    }

    #[test]
    fn only_http_bases_with_a_host_are_accepted() {
        assert!(Base::parse("https://api.example.com").is_ok());
        assert!(Base::parse("mailto:a@b").is_err());
        assert!(Base::parse("file:///etc").is_err());
        assert!(Base::parse("not a url").is_err());
        assert!(Base::parse("https://user:pass@api.example.com").is_err());
        let base = Base::parse("http://127.0.0.1:18080/v1/").unwrap();
        assert_eq!(
            base.join(&checked_path("x").unwrap(), None, &[])
                .unwrap()
                .to_string(),
            "http://127.0.0.1:18080/v1/x"
        );
    }
}
