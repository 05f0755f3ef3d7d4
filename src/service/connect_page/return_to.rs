//! Where the browser goes at the end of a connect flow: the session's `return_to`, which must
//! be on an origin the operator allowed with `--return-origin`, so the service is no open
//! redirect.
//!
//! Origins are compared parsed, never as text: scheme, host and port exactly, the port
//! defaulted by scheme (`https://app.example` and `https://app.example:443` are one origin;
//! `https://app.example.evil.com`, `https://app.example@evil.com` and `http://app.example` are
//! others). The landing URL keeps `return_to` as given and appends the outcome to its query.

use url::{Origin, Url};

/// The origins a session's `return_to` may be on.
#[derive(Debug, Clone, Default)]
pub struct ReturnOrigins {
    origins: Vec<Origin>,
}

impl ReturnOrigins {
    /// Parses `--return-origin` values: each an `http` or `https` origin (scheme, host,
    /// optional port), with no path, query, fragment or user info.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, Vec<String>> {
        let mut origins = Vec::new();
        let mut problems = Vec::new();
        for value in values {
            match parse_origin(value) {
                Ok(origin) => origins.push(origin),
                Err(problem) => problems.push(format!("--return-origin `{value}`: {problem}")),
            }
        }
        if problems.is_empty() {
            Ok(Self { origins })
        } else {
            Err(problems)
        }
    }

    /// Checks a session's `return_to`: an absolute URL on one of the origins.
    pub(crate) fn check(&self, return_to: &str) -> Result<Url, String> {
        let url = Url::parse(return_to)
            .map_err(|e| format!("return_to `{return_to}` is not an absolute URL: {e}"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("return_to `{return_to}` must not carry user info"));
        }
        if self.origins.is_empty() {
            return Err(
                "return_to is refused: no origin is allowed; start serve with --return-origin ORIGIN (e.g. https://app.example.com)"
                    .to_owned(),
            );
        }
        if !self.origins.contains(&url.origin()) {
            return Err(format!(
                "return_to `{return_to}` is not on an allowed origin ({}); allow its origin with --return-origin",
                self.origins
                    .iter()
                    .map(Origin::ascii_serialization)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(url)
    }
}

fn parse_origin(value: &str) -> Result<Origin, String> {
    let url = Url::parse(value).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("an origin is http:// or https://".to_owned());
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(
            "give the origin only: scheme, host and port (https://app.example.com)".to_owned(),
        );
    }
    Ok(url.origin())
}

/// How a connect flow ended, as the landing URL says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome<'a> {
    /// The connection is stored.
    Connected,
    /// Nothing was stored; the code says why.
    Error(&'a str),
}

/// `return_to` with `connection_id`, `provider`, `status` and, on failure, `error` appended
/// to its query.
pub(crate) fn landing_url(
    return_to: &str,
    provider: &str,
    connection_id: &str,
    outcome: Outcome<'_>,
) -> Option<String> {
    let mut url = Url::parse(return_to).ok()?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("connection_id", connection_id)
            .append_pair("provider", provider);
        match outcome {
            Outcome::Connected => query.append_pair("status", "connected"),
            Outcome::Error(code) => query
                .append_pair("status", "error")
                .append_pair("error", code),
        };
    }
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> ReturnOrigins {
        ReturnOrigins::parse(["https://app.example.com", "http://127.0.0.1:8080"]).unwrap()
    }

    #[test]
    fn return_to_on_an_allowed_origin_is_accepted_with_its_port_defaulted() {
        let origins = allowed();
        for ok in [
            "https://app.example.com/connected?user=42",
            "https://app.example.com:443/x",
            "https://APP.example.com/x",
            "http://127.0.0.1:8080/done",
        ] {
            assert!(origins.check(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn any_other_origin_is_refused() {
        let origins = allowed();
        for refused in [
            "http://app.example.com/x",
            "https://app.example.com:8443/x",
            "https://app.example.com.evil.com/x",
            "https://evil.com/https://app.example.com/",
            "https://app.example.com@evil.com/x",
            "https://user@app.example.com/x",
            "http://127.0.0.1/done",
            "http://127.0.0.1:8081/done",
            "//app.example.com/x",
            "/relative",
            "javascript:alert(1)",
            "data:text/html,hi",
        ] {
            assert!(origins.check(refused).is_err(), "{refused}");
        }
        assert!(
            ReturnOrigins::default()
                .check("https://app.example.com/")
                .unwrap_err()
                .contains("--return-origin")
        );
    }

    #[test]
    fn origins_are_given_without_paths() {
        let problems = ReturnOrigins::parse([
            "https://app.example.com/path",
            "ftp://app.example.com",
            "https://u:p@app.example.com",
            "app.example.com",
        ])
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(ReturnOrigins::parse(["https://app.example.com/"]).is_ok());
    }

    #[test]
    fn the_landing_url_keeps_the_query_and_appends_the_outcome() {
        assert_eq!(
            landing_url(
                "https://app.example.com/done?user=42",
                "zoho-crm",
                "acme 1",
                Outcome::Connected
            )
            .as_deref(),
            Some(
                "https://app.example.com/done?user=42&connection_id=acme+1&provider=zoho-crm&status=connected"
            )
        );
        assert_eq!(
            landing_url(
                "https://app.example.com/done",
                "zoho-crm",
                "c",
                Outcome::Error("access_denied")
            )
            .as_deref(),
            Some(
                "https://app.example.com/done?connection_id=c&provider=zoho-crm&status=error&error=access_denied"
            )
        );
    }
}
