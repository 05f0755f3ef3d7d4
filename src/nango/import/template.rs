//! Nango's interpolated strings turned into our `<name>` templates.
//!
//! Nango writes `${connectionConfig.NAME}` for a value of the connection, `${accessToken}` for
//! the access token in proxy headers, and `LEFT || RIGHT` for a fallback: Nango's
//! `interpolateStringFromObject` (packages/shared/lib/utils/utils.ts) uses LEFT when
//! interpolating it changed something, RIGHT otherwise. Our format says the same thing with
//! `<NAME>` and, for the fallback, an optional connection parameter with a `default`. So a
//! fallback is carried over only when RIGHT is LEFT with its one connection value replaced by a
//! literal: that literal is the default. Anything else (two values in LEFT, another template in
//! RIGHT, `${clientId}`, `${random}`) has no equivalent and is reported as such.

use std::fmt;

/// Where a `<name>` placeholder stands inside a URL, which decides the kind of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlaceholderPosition {
    /// The whole value starts with the placeholder: it is a whole URL (`${instance_url}/path`).
    WholeUrl,
    /// Right after `scheme://`, up to the path, port, query or end: a whole host name.
    WholeHost,
    /// Anywhere else: part of a host label, path segment or parameter value.
    Inside,
}

/// One use of a connection value in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Use {
    /// The `connectionConfig` key.
    pub name: String,
    /// Where it stands.
    pub position: PlaceholderPosition,
}

/// A Nango string converted to our template syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Converted {
    /// The template with `<name>` placeholders.
    pub text: String,
    /// The connection values it uses, in order.
    pub uses: Vec<Use>,
    /// `(name, literal)` when the Nango string was a fallback `LEFT || RIGHT` whose RIGHT is LEFT
    /// with `name` replaced by `literal`.
    pub fallback: Option<(String, String)>,
    /// The credential fields it uses (`${apiKey}`, `${credentials.NAME}`), in order.
    pub credentials: Vec<String>,
}

/// Why a Nango string cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unconvertible {
    /// `${...}` that is not a connection value (nor the access token where allowed).
    Interpolation(String),
    /// A `||` fallback that is not "the same template with a default value".
    Fallback(String),
    /// A literal `<` or `>`, which our format would read as a placeholder.
    AngleBracket(String),
    /// A credential in a URL's host or path (Nango's telegram: `.../bot${apiKey}`).
    CredentialInPath(String),
    /// `${base64(` without its closing `)}`.
    UnclosedBase64(String),
}

impl fmt::Display for Unconvertible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unconvertible::Interpolation(what) => write!(f, "`${{{what}}}`"),
            Unconvertible::Fallback(text) => write!(f, "`{text}`"),
            Unconvertible::AngleBracket(text) => write!(f, "`{text}`"),
            Unconvertible::CredentialInPath(name) => write!(f, "credential `{name}`"),
            Unconvertible::UnclosedBase64(text) => write!(f, "`{text}`"),
        }
    }
}

const CONNECTION_PREFIX: &str = "connectionConfig.";
/// Nango's name for the access token in proxy headers.
const ACCESS_TOKEN: &str = "accessToken";
/// Our built-in name for it (`api.headers` only).
const OUR_ACCESS_TOKEN: &str = "access_token";

/// Where a Nango string is used: a URL, or a plain value (parameter, header, scope name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// A URL: the position of a value decides its kind.
    Url,
    /// A parameter or scope value: every value stands inside it.
    Value,
    /// An API header value: the access token may appear too.
    Header,
}

/// The names a Nango string may use besides connection values, which depend on the auth mode
/// and on where the string is used (Nango's per-mode interpolation context).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Vocabulary {
    /// `${accessToken}` (written `<access_token>`).
    pub access_token: bool,
    /// `${credentials.NAME}` (written `<credentials.NAME>`) and `${base64(...)}`.
    pub credentials: bool,
    /// Credential names Nango also accepts bare (`${apiKey}`, `${username}`).
    pub bare_credentials: Vec<String>,
}

impl Vocabulary {
    /// The OAuth 2.0 vocabulary: the access token in API headers only.
    fn oauth(context: Context) -> Self {
        Vocabulary {
            access_token: context == Context::Header,
            ..Vocabulary::default()
        }
    }
}

const CREDENTIALS_PREFIX: &str = "credentials.";
const BASE64_OPEN: &str = "base64(";

/// Converts one Nango string of an OAuth 2.0 entry used in `context`.
pub(crate) fn convert(text: &str, context: Context) -> Result<Converted, Unconvertible> {
    convert_with(text, context, &Vocabulary::oauth(context))
}

/// Converts one Nango string used in `context`, where `vocabulary` says which names besides
/// connection values it may use.
pub(crate) fn convert_with(
    text: &str,
    context: Context,
    vocabulary: &Vocabulary,
) -> Result<Converted, Unconvertible> {
    if text.contains('<') || text.contains('>') {
        return Err(Unconvertible::AngleBracket(text.to_owned()));
    }
    if !text.contains("||") {
        let (text, uses, credentials) = plain(text, context, vocabulary)?;
        return Ok(Converted {
            text,
            uses,
            fallback: None,
            credentials,
        });
    }
    // Nango splits on every `||` and reads the first two parts only; a third alternative is
    // never used, so such a string is refused rather than guessed at.
    let parts: Vec<&str> = text.split("||").map(str::trim).collect();
    let not_a_default = || Unconvertible::Fallback(text.to_owned());
    let [left, right] = parts.as_slice() else {
        return Err(not_a_default());
    };
    let (ours, uses, credentials) = plain(left, context, vocabulary)?;
    if !credentials.is_empty() {
        return Err(not_a_default());
    }
    let names: Vec<&str> = uses.iter().map(|u| u.name.as_str()).collect();
    let Some(first) = names.first() else {
        return Err(not_a_default());
    };
    if names.iter().any(|n| n != first) || right.contains("${") {
        return Err(not_a_default());
    }
    let marker = format!("${{{CONNECTION_PREFIX}{first}}}");
    let pieces: Vec<&str> = left.split(marker.as_str()).collect();
    let [prefix, suffix] = pieces.as_slice() else {
        return Err(not_a_default());
    };
    let literal = right
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .filter(|literal| !literal.is_empty())
        .ok_or_else(not_a_default)?;
    Ok(Converted {
        text: ours,
        fallback: Some(((*first).to_owned(), literal.to_owned())),
        uses,
        credentials,
    })
}

/// A string converted without `||`: the template, the connection values and the credentials
/// it uses.
type Plain = (String, Vec<Use>, Vec<String>);

/// Converts a string without `||`.
fn plain(text: &str, context: Context, vocabulary: &Vocabulary) -> Result<Plain, Unconvertible> {
    let mut out = String::with_capacity(text.len());
    let mut uses = Vec::new();
    let mut credentials = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if vocabulary.credentials && rest[start + 2..].starts_with(BASE64_OPEN) {
            let open = start + 2 + BASE64_OPEN.len();
            let close = base64_end(&rest[open..])
                .ok_or_else(|| Unconvertible::UnclosedBase64(text.to_owned()))?;
            let (inner, inner_uses, inner_credentials) =
                plain(&rest[open..open + close], Context::Value, vocabulary)?;
            out.push_str(&rest[..start]);
            out.push_str("<base64(");
            out.push_str(&inner);
            out.push_str(")>");
            uses.extend(inner_uses);
            credentials.extend(inner_credentials);
            rest = &rest[open + close + 2..];
            continue;
        }
        let Some(length) = rest[start + 2..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + 2 + length];
        out.push_str(&rest[..start]);
        if let Some(name) = inner.strip_prefix(CONNECTION_PREFIX) {
            let position = match position(&out) {
                _ if context != Context::Url => PlaceholderPosition::Inside,
                PlaceholderPosition::WholeHost if !ends_host(&rest[start + 3 + length..]) => {
                    PlaceholderPosition::Inside
                }
                other => other,
            };
            uses.push(Use {
                name: name.to_owned(),
                position,
            });
            out.push('<');
            out.push_str(name);
            out.push('>');
        } else if inner == ACCESS_TOKEN && vocabulary.access_token {
            out.push('<');
            out.push_str(OUR_ACCESS_TOKEN);
            out.push('>');
        } else if let Some(name) = credential(inner, vocabulary) {
            if context == Context::Url && !out.contains('?') {
                return Err(Unconvertible::CredentialInPath(name.to_owned()));
            }
            credentials.push(name.to_owned());
            out.push_str("<credentials.");
            out.push_str(name);
            out.push('>');
        } else {
            return Err(Unconvertible::Interpolation(inner.to_owned()));
        }
        rest = &rest[start + 3 + length..];
    }
    out.push_str(rest);
    Ok((out, uses, credentials))
}

/// The credential `inner` names (`credentials.NAME`, or a bare name Nango also accepts).
fn credential<'a>(inner: &'a str, vocabulary: &Vocabulary) -> Option<&'a str> {
    if !vocabulary.credentials {
        return None;
    }
    match inner.strip_prefix(CREDENTIALS_PREFIX) {
        Some(name) => Some(name),
        None => vocabulary
            .bare_credentials
            .iter()
            .any(|bare| bare == inner)
            .then_some(inner),
    }
}

/// Where the text of `${base64(TEXT)}` ends in `after` (the text after `base64(`): the index
/// of the `)` that closes it, followed by `}`.
fn base64_end(after: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in after.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return after[i + 1..].starts_with('}').then_some(i),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Where a placeholder starting after `before` stands (refined by what follows it).
fn position(before: &str) -> PlaceholderPosition {
    if before.is_empty() {
        PlaceholderPosition::WholeUrl
    } else if before.ends_with("://") && !before[..before.len() - 3].contains('/') {
        PlaceholderPosition::WholeHost
    } else {
        PlaceholderPosition::Inside
    }
}

/// Whether `after` (what follows a placeholder right after `scheme://`) ends the host.
fn ends_host(after: &str) -> bool {
    after.is_empty() || after.starts_with(['/', '?', '#', ':'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_values_become_placeholders_with_their_position() {
        let converted = convert(
            "https://${connectionConfig.subdomain}.myshopify.com/admin/${connectionConfig.v}",
            Context::Url,
        )
        .unwrap();
        assert_eq!(
            converted.text,
            "https://<subdomain>.myshopify.com/admin/<v>"
        );
        assert_eq!(converted.uses[0].position, PlaceholderPosition::Inside);
        assert_eq!(converted.uses[1].position, PlaceholderPosition::Inside);
        let host = convert("https://${connectionConfig.hostname}/x", Context::Url).unwrap();
        assert_eq!(host.uses[0].position, PlaceholderPosition::WholeHost);
        let url = convert("${connectionConfig.instance_url}", Context::Url).unwrap();
        assert_eq!(url.uses[0].position, PlaceholderPosition::WholeUrl);
        let value = convert("${connectionConfig.instance_url}", Context::Value).unwrap();
        assert_eq!(value.uses[0].position, PlaceholderPosition::Inside);
    }

    #[test]
    fn credentials_and_base64_become_our_placeholders() {
        let vocabulary = Vocabulary {
            access_token: false,
            credentials: true,
            bare_credentials: vec!["apiKey".to_owned()],
        };
        let key = convert_with("Bearer ${apiKey}", Context::Header, &vocabulary).unwrap();
        assert_eq!(key.text, "Bearer <credentials.apiKey>");
        assert_eq!(key.credentials, ["apiKey"]);
        let basic = convert_with(
            "Basic ${base64(${credentials.username}:${connectionConfig.org})}",
            Context::Header,
            &vocabulary,
        )
        .unwrap();
        assert_eq!(basic.text, "Basic <base64(<credentials.username>:<org>)>");
        assert_eq!(basic.credentials, ["username"]);
        assert_eq!(basic.uses[0].name, "org");
        assert_eq!(
            convert_with("${accessToken}", Context::Header, &vocabulary),
            Err(Unconvertible::Interpolation("accessToken".into()))
        );
        assert_eq!(
            convert_with("${password}", Context::Header, &vocabulary),
            Err(Unconvertible::Interpolation("password".into()))
        );
    }

    #[test]
    fn a_credential_may_sit_in_a_query_string_but_not_in_a_host_or_path() {
        let vocabulary = Vocabulary {
            credentials: true,
            bare_credentials: vec!["apiKey".to_owned()],
            ..Vocabulary::default()
        };
        let query = convert_with(
            "https://x.example/token?key=${apiKey}",
            Context::Url,
            &vocabulary,
        )
        .unwrap();
        assert_eq!(
            query.text,
            "https://x.example/token?key=<credentials.apiKey>"
        );
        assert_eq!(
            convert_with(
                "https://api.telegram.org/bot${apiKey}",
                Context::Url,
                &vocabulary
            ),
            Err(Unconvertible::CredentialInPath("apiKey".into()))
        );
        assert!(matches!(
            convert_with("${base64(${apiKey}", Context::Header, &vocabulary),
            Err(Unconvertible::UnclosedBase64(_))
        ));
    }

    #[test]
    fn a_fallback_to_the_same_template_gives_the_default() {
        let converted = convert(
            "https://${connectionConfig.hostname}/services/oauth2/token || https://login.salesforce.com/services/oauth2/token",
            Context::Url,
        )
        .unwrap();
        assert_eq!(converted.text, "https://<hostname>/services/oauth2/token");
        assert_eq!(
            converted.fallback,
            Some(("hostname".to_owned(), "login.salesforce.com".to_owned()))
        );
    }

    #[test]
    fn other_fallbacks_and_interpolations_have_no_equivalent() {
        for text in [
            "https://app.${connectionConfig.region}.intercom.com/oauth || https://app.intercom.com/oauth",
            "https://${connectionConfig.hostname}/a || https://${connectionConfig.subdomain}.x.com/a",
            "https://a.com || https://b.com || https://c.com",
        ] {
            assert!(
                matches!(convert(text, Context::Url), Err(Unconvertible::Fallback(_))),
                "{text}"
            );
        }
        assert_eq!(
            convert("${clientId}", Context::Header),
            Err(Unconvertible::Interpolation("clientId".into()))
        );
        assert_eq!(
            convert("${accessToken}", Context::Value),
            Err(Unconvertible::Interpolation("accessToken".into()))
        );
        assert_eq!(
            convert("${accessToken}", Context::Header).unwrap().text,
            "<access_token>"
        );
    }
}
