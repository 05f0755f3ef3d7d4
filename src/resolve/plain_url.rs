//! URLs that are plainly fine: recognised without the `url` crate's parser.
//!
//! `resolve` checks every URL of every data center against the URL rules
//! ([`super::url_rules::check_url`]), and the `url` crate's parse was the largest single cost
//! of `validate` after reading the YAML: a full WHATWG parser that serialises each URL into a
//! new string, for URLs that are almost all `https://host/path` (BENCHMARKS.md).
//!
//! This module recognises a strict subset of the URLs the rules accept, for which every rule's
//! answer is known without parsing: `https://`, then a host of lowercase letters, digits, `-`
//! and `.` that is a valid DNS name (no port, no user info, no `xn--` label for IDNA to check,
//! a last label starting with a letter so the parser cannot read it as an IPv4 address), then
//! nothing, or a path and an optional query made only of characters the parser leaves as they
//! are (no `%`, `\`, whitespace or controls, no `'` in the query), with no `.` or `..`
//! segment for it to remove and no fragment. Such a text is its own normalised form, so the
//! `url` crate would accept it as written.
//!
//! Anything else, however ordinary, goes to the `url` crate as before: this module never
//! refuses a URL and never words an error. A property test holds it to the crate: whatever it
//! accepts, `check_url` accepts, in every role.

use super::dns::check_dns_name;
use super::url_rules::{UrlProblem, UrlRole, check_url};

/// True when `text` is a URL the URL rules accept in `role`, known without parsing it;
/// false says nothing (the full check decides).
pub(crate) fn is_plain_https(text: &str, role: UrlRole) -> bool {
    let Some(rest) = text.strip_prefix("https://") else {
        return false;
    };
    let host_end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let (host, tail) = rest.split_at(host_end);
    if !is_plain_host(host) {
        return false;
    }
    if tail.is_empty() {
        // `https://host`: the parser adds the `/`, which the rules allow to be left out.
        return true;
    }
    // A `?` or `#` straight after the host makes the parser add a `/` the text lacks.
    let Some(after_root) = tail.strip_prefix('/') else {
        return false;
    };
    // Bytes, not `str` patterns: this runs for every URL of every data center, and a `str`
    // searcher costs more to set up than these short texts cost to scan.
    let after_root = after_root.as_bytes();
    let (path, query) = match after_root.iter().position(|&b| b == b'?') {
        Some(at) => (&after_root[..at], Some(&after_root[at + 1..])),
        None => (after_root, None),
    };
    // An issuer has no query and no trailing slash: the full check says so in words.
    if role == UrlRole::Origin && (query.is_some() || text.ends_with('/')) {
        return false;
    }
    path.iter().all(|&b| is_kept(b) || b == b'\'')
        && !path
            .split(|&b| b == b'/')
            .any(|segment| segment == b"." || segment == b"..")
        && query.is_none_or(|query| query.iter().all(|&b| is_kept(b) || b == b'?'))
}

/// A host the parser keeps as written and the DNS rule accepts: lowercase letters, digits,
/// `-` and `.`, no label for IDNA to decode (`xn--`), and a last label that starts with a
/// letter (the parser reads a last label of digits, or of `0x` and hex digits, as an IPv4
/// address).
fn is_plain_host(host: &str) -> bool {
    let bytes = host.as_bytes();
    let mut label_start = 0;
    for (at, &b) in bytes.iter().enumerate() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' => {}
            b'.' => label_start = at + 1,
            _ => return false,
        }
        if at == label_start && bytes[at..].starts_with(b"xn--") {
            return false;
        }
    }
    bytes.get(label_start).is_some_and(u8::is_ascii_lowercase) && check_dns_name(host).is_ok()
}

/// A byte the parser leaves as it is in both a path and a query of an https URL: letters,
/// digits, and the unreserved and sub-delimiter characters of RFC 3986 other than `'` (which
/// the parser percent-encodes in the query of an https URL), plus `:`, `@` and `/`.
fn is_kept(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}

/// Checks one expanded URL when the parsed URL is not needed: a URL that is plainly fine
/// (this module, nearly every URL of a real definition) is accepted without the
/// parser; any other goes through [`check_url`], which decides and words the problem.
pub(crate) fn check_url_text(text: &str, role: UrlRole) -> Result<(), UrlProblem> {
    if is_plain_https(text, role) {
        return Ok(());
    }
    check_url(text, role).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ROLES: [UrlRole; 3] = [UrlRole::Endpoint, UrlRole::Origin, UrlRole::Redirect];

    #[test]
    fn the_urls_of_real_definitions_are_plain() {
        for text in [
            "https://accounts.zoho.com/oauth/v2/auth",
            "https://accounts.zohocloud.ca/oauth/v2/token",
            "https://www.zohoapis.com.au",
            "https://gitlab.com/oauth/authorize",
            "https://api.nango.dev/oauth/callback",
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            "https://www.zoho.com/crm/developer/docs/api/v8/scopes.html",
            "https://api.example.com/v1/me?fields=id,name&limit=1",
        ] {
            assert!(is_plain_https(text, UrlRole::Endpoint), "{text}");
        }
        assert!(is_plain_https("https://accounts.zoho.eu", UrlRole::Origin));
    }

    #[test]
    fn what_only_the_parser_can_judge_is_left_to_it() {
        for text in [
            "http://127.0.0.1:8080/callback",
            "https://accounts.zoho.eu:8443/x",
            "https://Accounts.zoho.eu/x",
            "https://xn--80ak6aa92e.com/x",
            "https://example.123/x",
            "https://0x7f.example.0x1/x",
            "https://accounts.zoho.eu?x=1",
            "https://accounts.zoho.eu/a/../x",
            "https://accounts.zoho.eu/a/./x",
            "https://accounts.zoho.eu/%2e%2e/x",
            "https://accounts.zoho.eu/a b",
            "https://accounts.zoho.eu/a\\b",
            "https://accounts.zoho.eu/a?b='c'",
            "https://accounts.zoho.eu/a#b",
            "https://user@accounts.zoho.eu/a",
            "https://accounts..zoho.eu/a",
            "https:///accounts.zoho.eu/a",
        ] {
            assert!(!is_plain_https(text, UrlRole::Endpoint), "{text}");
        }
        for text in [
            "https://accounts.zoho.eu/",
            "https://accounts.zoho.eu/x?y=1",
        ] {
            assert!(!is_plain_https(text, UrlRole::Origin), "{text}");
            assert!(check_url(text, UrlRole::Origin).is_err(), "{text}");
        }
    }

    /// Texts near the edge, mostly well-formed so that many are plain: schemes in other cases,
    /// hosts with upper case, punycode, numeric and hex labels, empty labels and stray hyphens,
    /// user info and ports; paths with dot segments (also escaped), `%`, `\\`, `'`, spaces and
    /// tabs; queries with quotes, escapes and `#`; fragments.
    fn near_urls() -> impl Strategy<Value = String> {
        let scheme = prop_oneof![
            12 => Just("https://"),
            1 => Just("http://"),
            1 => Just("HTTPS://"),
            1 => Just("https:/"),
            1 => Just("https:///"),
        ];
        let label = prop_oneof![
            12 => "[a-z][a-z0-9-]{0,5}[a-z0-9]",
            1 => "xn--[a-z0-9-]{1,6}",
            1 => "[0-9]{1,3}",
            1 => "0[xX][0-9a-f]{0,2}",
            1 => "[a-zA-Z]{1,4}",
            1 => "-?[a-z]{0,3}-?",
            1 => "[a-z]{1,3}[_ %\\t][a-z]{1,3}",
        ];
        let host = (
            prop_oneof![12 => Just(""), 1 => Just("user@"), 1 => Just("u:p@")],
            prop::collection::vec(label, 1..4),
            prop_oneof![12 => Just(""), 1 => Just("."), 1 => Just(":443"), 1 => Just(":8080")],
        )
            .prop_map(|(user, labels, end)| format!("{user}{}{end}", labels.join(".")));
        let segment = prop_oneof![
            12 => "[a-zA-Z0-9._~!$&()*+,;=:@-]{0,6}",
            1 => Just(".".to_owned()),
            1 => Just("..".to_owned()),
            1 => "%2[eE]",
            1 => "[a-z]{0,2}[%\\ '\t|^`{}\\[\\]][a-z0-9]{0,2}",
        ];
        let path = (
            prop_oneof![12 => Just("/"), 1 => Just(""), 1 => Just("\\")],
            prop::collection::vec(segment, 0..4),
        )
            .prop_map(|(root, segments)| format!("{root}{}", segments.join("/")));
        let query = prop_oneof![
            8 => Just(String::new()),
            4 => "\\?[a-zA-Z0-9=&.?/:@-]{0,8}",
            1 => "\\?[a-z]{0,3}['%# \"<>][a-z0-9]{0,3}",
        ];
        let fragment = prop_oneof![12 => Just(String::new()), 1 => "#[a-z/?]{0,3}"];
        (scheme, host, path, query, fragment).prop_map(|(scheme, host, path, query, fragment)| {
            format!("{scheme}{host}{path}{query}{fragment}")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn what_is_plain_the_url_rules_accept(text in near_urls()) {
            for role in ROLES {
                if is_plain_https(&text, role) {
                    prop_assert!(
                        check_url(&text, role).is_ok(),
                        "{text:?} in role {role:?}: {:?}",
                        check_url(&text, role)
                    );
                }
            }
        }
    }
}
